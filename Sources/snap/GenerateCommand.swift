import ArgumentParser
import Foundation
import SnapComposition

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate", abstract: "Write shell completion scripts and man pages.",
        discussion: """
        Both come from the same command definitions as --help, so they never drift from it. \
        'make install' installs them.
        """)

    @Option(name: .customLong("bash-completion"), parsing: .unconditional, help: "Write the bash completion script to this file.")
    var bash: String?

    @Option(name: .customLong("zsh-completion"), parsing: .unconditional, help: "Write the zsh completion script to this file.")
    var zsh: String?

    @Option(name: .customLong("fish-completion"), parsing: .unconditional, help: "Write the fish completion script to this file.")
    var fish: String?

    @Option(parsing: .unconditional, help: "Write one man page per command (section 1) into this folder.")
    var man: String?

    func validate() throws {
        guard bash != nil || zsh != nil || fish != nil || man != nil else {
            throw ValidationError("give --bash-completion, --zsh-completion, --fish-completion or --man")
        }
    }

    func run() throws {
        try reportingErrors {
            for (file, shell) in [(bash, CompletionShell.bash), (zsh, .zsh), (fish, .fish)] {
                guard let file else { continue }
                try write(Snap.completionScript(for: shell), to: file)
            }
            guard let man else { return }
            try FileManager.default.createDirectory(atPath: man, withIntermediateDirectories: true)
            for (path, command) in Self.commands(Snap.self, path: ["snap"]) {
                try write(ManPage.render(path: path, command: command), to: "\(man)/\(path.joined(separator: "-")).1")
            }
        }
    }

    private func write(_ text: String, to file: String) throws {
        do { try text.write(toFile: file, atomically: true, encoding: .utf8) } catch {
            throw CLIError("cannot write \(file): \(ErrorText.of(error))")
        }
    }

    /// Every command and sub-command with its path of names.
    static func commands(_ command: ParsableCommand.Type, path: [String]) -> [([String], ParsableCommand.Type)] {
        [(path, command)] + command.configuration.subcommands.flatMap { sub in
            commands(sub, path: path + [sub.configuration.commandName ?? ""])
        }
    }
}

/// A man page (roff, `man 7 man`) made from a command's `--help` text.
enum ManPage {
    static func render(path: [String], command: ParsableCommand.Type) -> String {
        let name = path.joined(separator: "-")
        let abstract = command.configuration.abstract
        let help = HelpLayout.ownOptionsFirst(Snap.helpMessage(for: command, columns: 78))
        var page = ".TH \(escape(name.uppercased())) 1 \"\" \"snap \(snapVersionText)\" \"snap manual\"\n"
        page += ".SH NAME\n\(escape(name)) \\- \(escape(abstract))\n"
        page += ".SH DESCRIPTION\n.nf\n"
        for line in help.split(separator: "\n", omittingEmptySubsequences: false) { page += escape(String(line)) + "\n" }
        page += ".fi\n"
        let subs = command.configuration.subcommands.compactMap { $0.configuration.commandName }
        let related = path.count > 1 ? ["snap"] : []
        let seeAlso = related + subs.map { (path + [$0]).joined(separator: "-") }
        if !seeAlso.isEmpty { page += ".SH SEE ALSO\n" + seeAlso.map { "\\fB\(escape($0))\\fR(1)" }.joined(separator: ", ") + "\n" }
        return page
    }

    /// Text safe in roff: backslashes doubled, and a line never starting with `.` or `'`.
    static func escape(_ text: String) -> String {
        let escaped = text.replacingOccurrences(of: "\\", with: "\\e").replacingOccurrences(of: "-", with: "\\-")
        return escaped.hasPrefix(".") || escaped.hasPrefix("'") ? "\\&" + escaped : escaped
    }

    private static var snapVersionText: String { Snap.configuration.version }
}
