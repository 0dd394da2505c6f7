import ArgumentParser

/// Lets the global options come before the command, as restic's do (`snap -r REPO backup …`):
/// ArgumentParser accepts an option group only after the (sub)command that declares it, so
/// options given before the command are moved after its full name (`mirror status`,
/// `key add`) before parsing. Options after the command are left where they are.
enum GlobalArguments {
    /// Every option of `GlobalOptions`, and whether it takes a value. `GlobalArgumentsTests`
    /// checks each name against the command's help, so a new global option must be added here.
    static let options: [String: Bool] = [
        "-r": true, "--repo": true, "--repo-file": true, "--mirror-policy": true,
        "--password-file": true, "--password-command": true, "--password-command-timeout": true,
        "--max-key-memory": true, "--connections": true, "--progress-interval": true, "--s3-object-lock-days": true,
        "--s3-object-lock-mode": true, "--s3-storage-class": true, "--cache-dir": true,
        "--json": false, "-q": false, "--quiet": false, "-v": false, "-vv": false, "-vvv": false, "--verbose": false, "--no-cache": false,
    ]

    /// What was found in front of the command.
    enum Outcome: Equatable {
        /// The arguments to parse.
        case arguments([String])
        /// The first word is not a command.
        case unknownCommand(String)
    }

    static func reorder(_ arguments: [String], root: ParsableCommand.Type = Snap.self) -> Outcome {
        var moved: [String] = []
        var i = 0
        while i < arguments.count {
            let word = arguments[i]
            let name = word.split(separator: "=", maxSplits: 1).first.map(String.init) ?? word
            guard let takesValue = options[name] else { break }
            moved.append(word)
            if takesValue && !word.contains("=") && i + 1 < arguments.count {
                moved.append(arguments[i + 1])
                i += 1
            }
            i += 1
        }
        guard i < arguments.count else { return .arguments(arguments) }  // no command: let the parser say so
        let first = arguments[i]
        // --help, --version (or an unknown option, which the parser names): the global
        // options before it do not apply to them.
        if first.hasPrefix("-") { return .arguments(Array(arguments[i...])) }
        var command: ParsableCommand.Type = root
        var path: [String] = []
        while i < arguments.count,
              let sub = command.configuration.subcommands.first(where: { $0.configuration.commandName == arguments[i] }) {
            command = sub
            path.append(arguments[i])
            i += 1
        }
        if path.isEmpty {
            return first == "help" ? .arguments(arguments) : .unknownCommand(first)
        }
        guard !moved.isEmpty else { return .arguments(arguments) }
        // A command without a repository (`version`) has no use for them: they are dropped.
        return .arguments(path + (takesGlobalOptions(command) ? moved : []) + Array(arguments[i...]))
    }

    /// Whether `command` declares the global options (an `@OptionGroup(title: "Global options") var global: GlobalOptions`).
    static func takesGlobalOptions(_ command: ParsableCommand.Type) -> Bool {
        Mirror(reflecting: command.init()).children.contains { $0.value is OptionGroup<GlobalOptions> }
    }

    /// The commands, for the unknown-command message.
    static var commandNames: [String] {
        Snap.configuration.subcommands.compactMap { $0.configuration.commandName }
    }
}
