import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import SnapCore
import SnapEngine
import SnapRepository

struct KeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key", abstract: "Manage the passwords (key files) that open the repository.",
        subcommands: [KeyListCommand.self, KeyAddCommand.self, KeyRemoveCommand.self, KeyPasswdCommand.self])
}

/// Where a new password comes from: `--new-password-file`, else the terminal (asked twice).
struct NewPasswordOptions: ParsableArguments {
    @Option(name: .customLong("new-password-file"), parsing: .unconditional, help: "Read the new password from this file.")
    var newPasswordFile: String?

    @Option(name: .customLong("host"), parsing: .unconditional, help: "Host name recorded in the new key file (default: this host).")
    var host: String?

    @Option(name: .customLong("user"), parsing: .unconditional, help: "User name recorded in the new key file (default: the current user).")
    var user: String?

    func validate() throws {
        // Shown in `key list` one key a line: a name that is blank or spans lines would garble it.
        for (option, value) in [("--host", host), ("--user", user)] {
            guard let value else { continue }
            if value.allSatisfy(\.isWhitespace) || value.contains(where: \.isNewline) {
                throw ValidationError("\(option) must be a name on one line, not blank")
            }
        }
    }

    func password() throws -> String {
        if let file = newPasswordFile { return try PasswordSource.read(file: file) }
        guard isatty(STDIN_FILENO) == 1 else { throw CLIError("no new password given: use --new-password-file, or run on a terminal") }
        return try PasswordSource.prompt(confirm: true, label: "enter new password: ")
    }
}

struct KeyListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the key files; * marks the one in use.")

    @OptionGroup(title: "Global options") var global: GlobalOptions

    func run() throws {
        try reportingErrors {
            let keys = try global.openRepository(cache: false).listKeys()
            if global.json { try Output.json(keys); return }
            Output.line(" ID        User          Host                  Created")
            Output.line("-----------------------------------------------------------------------")
            for key in keys {
                let mark = key.current ? "*" : " "
                if let problem = key.problem {
                    Output.line("\(mark)\(key.id.short)  (not usable: \(problem))")
                } else {
                    let user = key.username.rightPad(12)
                    let host = key.hostname.rightPad(20)
                    Output.line("\(mark)\(key.id.short)  \(user)  \(host)  \(key.created)")
                }
            }
        }
    }
}

struct KeyAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a key file for a new password.")

    @OptionGroup var new: NewPasswordOptions

    @OptionGroup(title: "Global options") var global: GlobalOptions

    func run() throws {
        try reportingErrors {
            let repository = try global.openRepository(cache: false)
            let id = try repository.addKey(password: try new.password(), hostname: new.host ?? Identity.hostname,
                                           username: new.user ?? Identity.username, now: WallClock.nowText)
            if global.json { try Output.json(["id": id.hex]); return }
            if !global.quiet { Output.line("saved new key \(id.short)") }
        }
    }
}

struct KeyRemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Remove a key file (not the one in use, and not the last one).")

    @Argument(help: "The key's ID or a unique prefix of it (or the whole name of a file in keys/ that is not a key).")
    var id: String

    @OptionGroup(title: "Global options") var global: GlobalOptions

    func run() throws {
        try reportingErrors {
            let repository = try global.openRepository(cache: false)
            // A stray file in keys/ (its name no key ID), named in full: every command warns about it.
            if try repository.removeStrayKeyFile(named: id) {
                if global.json { try Output.json(["removed": id]); return }
                if !global.quiet { Output.line("removed keys/\(id), which was not a key file") }
                return
            }
            let key = try repository.findKey(id)
            try repository.removeKey(key.id)
            Repository.forgetRememberedKey(cacheRoot: global.keyHintRoot(), location: repository.backend.location, key: key.id)
            if global.json { try Output.json(["removed": key.id.hex]); return }
            if !global.quiet { Output.line("removed key \(key.id.short)") }
        }
    }
}

struct KeyPasswdCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "passwd", abstract: "Change the password: a new key file replaces the one in use.",
        discussion: "The new key file is written before the old one is removed, so a crash leaves at least one working key.")

    @OptionGroup var new: NewPasswordOptions

    @OptionGroup(title: "Global options") var global: GlobalOptions

    func run() throws {
        try reportingErrors {
            let old = try global.password()
            let repository = try global.openRepository(cache: false, password: old)
            let password = try new.password()
            let id = try repository.changePassword(to: password, hostname: new.host ?? Identity.hostname,
                                                   username: new.user ?? Identity.username, now: WallClock.nowText)
            // The key file this machine remembers is gone; the next command finds the new one.
            Repository.forgetRememberedKey(cacheRoot: global.keyHintRoot(), location: repository.backend.location,
                                           key: repository.keyID)
            if global.json { try Output.json(["id": id.hex]); return }
            guard !global.quiet else { return }
            Output.line(password == old ? "saved new key \(id.short) with the same password; the old key file is removed"
                                        : "saved new key \(id.short); the old password no longer opens the repository")
        }
    }
}
