import ArgumentParser

/// Lets the global options come before the command, as restic's do (`snap -r REPO backup …`):
/// ArgumentParser accepts an option group only after the (sub)command that declares it, so
/// options given before the command are moved after its full name (`mirror status`,
/// `key add`) before parsing. Options after the command are left where they are.
enum GlobalArguments {
    /// Every option of `GlobalOptions`, and whether it takes a value. `CommandSurfaceTests`
    /// checks each name against the command's help, so a new global option must be added here.
    static let options: [String: Bool] = [
        "-r": true, "--repo": true, "--repo-file": true, "--repository-file": true, "--mirror-policy": true,
        "-p": true, "--password-file": true, "--password-command": true, "--password-command-timeout": true,
        "--max-key-memory": true, "--connections": true, "--stuck-request-timeout": true, "--progress-interval": true,
        "--s3-object-lock-days": true,
        "--s3-object-lock-mode": true, "--s3-storage-class": true, "--cache-dir": true,
        "--cacert": true, "--tls-client-cert": true, "--limit-upload": true, "--limit-download": true, "--insecure-tls": false,
        "--retry-lock": true, "--no-lock": false, "--key-hint": true, "--cleanup-cache": false, "-o": true, "--option": true,
        "--json": false, "-q": false, "--quiet": false, "-v": false, "-vv": false, "-vvv": false, "--verbose": false, "--no-cache": false,
    ]

    /// restic's names for commands snap has under another name (restic 0.14's
    /// `rebuild-index`, which later restic calls `repair index` too), so scripts run as they are.
    static let resticCommands: [String: [String]] = ["rebuild-index": ["repair", "index"]]

    /// restic's commands snap has no use for, with what to do instead.
    static let resticCommandsLeftOut: [String: String] = [
        "migrate": "snap repositories need no migration (every snap reads every repository version it knows; FORMAT.md)",
        "self-update": "update snap the way it was installed (the package manager, or a new binary)",
    ]

    /// restic's options that snap's commands do not have, by command, with why: named in
    /// the refusal instead of a bare "Unknown option".
    static let resticOptionsLeftOut: [String: [String: String]] = [
        "backup": ["--with-atime": "snap stores no access times (a backup's reads would change them anyway)",
                   "--use-fs-snapshot": "it is a Windows option (volume shadow copies)"],
        "prune": ["--repack-cacheable-only": "snap repacks by each pack's unused share alone (--max-unused, --max-repack-size)",
                  "--repack-small": "snap repacks by each pack's unused share alone (--max-unused, --max-repack-size)",
                  "--repack-uncompressed": "every snap blob is compressed",
                  "--unsafe-recover-no-free-space": "snap's prune writes its new packs before it deletes any; free some space first"],
        "init": ["--copy-chunker-params": "snap copy keeps the source's chunks whatever the destination's settings",
                 "--from-repo": "give it to 'snap copy' instead", "--repository-version": "snap has one repository format (FORMAT.md)"],
        "mount": ["--owner-root": "snap's mount shows the owners the snapshot stores", "--path-template": "snap's mount lists snapshots by ID, host, tag and time (docs/mount.md)"],
    ]

    /// What was found in front of the command.
    enum Outcome: Equatable {
        /// The arguments to parse.
        case arguments([String])
        /// The line that says why the command line is refused (a word that is not a command,
        /// a restic option snap's command does not have, a value that is not one).
        case refused(String)
    }

    static func reorder(_ arguments: [String], root: ParsableCommand.Type = Snap.self) -> Outcome {
        var moved: [[String]] = []
        var i = 0
        while i < arguments.count, let words = globalOptionWords(arguments, at: i) {
            moved.append(Array(arguments[i..<(i + words)]))
            i += words
        }
        guard i < arguments.count else { return .arguments(arguments) }  // no command: let the parser say so
        let first = arguments[i]
        // --help, --version (or an unknown option, which the parser names): the global
        // options before it do not apply to them.
        if first.hasPrefix("-") { return .arguments(Array(arguments[i...])) }
        if let words = resticCommands[first] {
            return reorder(Array(arguments[..<i]) + words + Array(arguments[(i + 1)...]), root: root)
        }
        var command: ParsableCommand.Type = root
        var path: [String] = []
        while i < arguments.count {
            let subcommands = command.configuration.subcommands
            if let sub = subcommands.first(where: { $0.configuration.commandName == arguments[i] }) {
                command = sub
                path.append(arguments[i])
                i += 1
            } else if !path.isEmpty, !subcommands.isEmpty, let words = globalOptionWords(arguments, at: i) {
                // Between a command and its sub-command (`snap key -r REPO list`), as restic allows.
                moved.append(Array(arguments[i..<(i + words)]))
                i += words
            } else {
                break
            }
        }
        if path.isEmpty {
            guard first != "help" else { return .arguments(arguments) }
            return .refused(resticCommandsLeftOut[first].map { "snap: there is no \"\(first)\" command: \($0)" }
                ?? "snap: unknown command \"\(first)\"; the commands are: \(commandNames.joined(separator: ", ")) (see 'snap --help')")
        }
        let leftOut = (resticOptionsLeftOut[path.joined(separator: " ")] ?? [:]).merging(path == ["forget"] ? resticOptionsLeftOut["prune"] ?? [:] : [:]) { a, _ in a }
        let given = arguments[i...].prefix { $0 != "--" }
        if let option = given.lazy.map(optionName).first(where: { leftOut[$0] != nil }), let why = leftOut[option] {
            return .refused("snap: restic's \(path.joined(separator: " ")) \(option) has no equivalent: \(why)")
        }
        guard !moved.isEmpty else { return .arguments(path + splittingAttachedValues(Array(arguments[i...]), of: command)) }
        // A command without a repository (`version`) has no use for them: they are dropped,
        // but for `--json` where the command has its own. restic's global settings that are
        // some commands' own options in snap go to those commands only.
        if let bad = moved.lazy.compactMap(invalidDroppedValue).first { return .refused(bad) }
        let global = takesGlobalOptions(command)
        let kept = moved.filter { group in
            let name = optionName(group[0])
            if let property = commandOptions[name] { return declares(command, property) }
            return global || (name == "--json" && declaresJSON(command))
        }
        return .arguments(path + kept.flatMap { $0 } + splittingAttachedValues(Array(arguments[i...]), of: command))
    }

    /// restic's parser takes a short option's value attached (`-e'*.log'`, `-Hhost`);
    /// ArgumentParser takes it as a word of its own or after `=`. Such words, for the
    /// command's short options that take a value (read from its help), are split in two.
    /// The word after an option that takes a value is that value, whatever it looks like
    /// (`--exclude -Hx` excludes `-Hx`), and words after `--` are left alone.
    static func splittingAttachedValues(_ words: [String], of command: ParsableCommand.Type) -> [String] {
        func attached(_ word: String) -> Bool {
            word.count > 2 && word.hasPrefix("-") && !word.hasPrefix("--") && word.dropFirst(2).first != "="
        }
        let end = words.firstIndex(of: "--") ?? words.endIndex
        guard words[..<end].contains(where: attached) else { return words }
        let taking = optionsTakingValues(of: command)
        var result: [String] = []
        var n = 0
        while n < words.count {
            let word = words[n]
            if n < end, taking.contains(word), n + 1 < end {
                result += [word, words[n + 1]]  // an option and its value, as they are
                n += 2
                continue
            }
            if n < end, attached(word), taking.contains(String(word.prefix(2))) {
                result += [String(word.prefix(2)), String(word.dropFirst(2))]
            } else {
                result.append(word)
            }
            n += 1
        }
        return result
    }

    /// The options of `command` (`-e`, `--exclude`, and the global ones) that take a value,
    /// as its help lists them (`  -e, --exclude <pattern>  …`).
    private static func optionsTakingValues(of command: ParsableCommand.Type) -> Set<String> {
        var found: Set<String> = []
        for line in Snap.helpMessage(for: command, columns: 400).split(separator: "\n") {
            let spec = line.drop { $0 == " " }
            guard spec.hasPrefix("-") else { continue }
            let names = spec.range(of: "  ").map { spec[..<$0.lowerBound] } ?? spec
            guard names.contains("<") else { continue }
            for name in names.split(whereSeparator: { $0 == "," || $0 == " " }) where name.hasPrefix("-") { found.insert(String(name)) }
        }
        return found
    }

    /// How many words the global option at `arguments[i]` spans (1, or 2 when its value is
    /// the next word), or nil when `arguments[i]` is not a global option. `--repo=R` and a
    /// short option with its value attached (`-rR`, as restic's parser allows) are one word.
    static func globalOptionWords(_ arguments: [String], at i: Int) -> Int? {
        let word = arguments[i]
        let name = optionName(word)
        guard let takesValue = options[name] ?? (commandOptions[name] != nil ? true : nil) else {
            return attachedShortValue(word) ? 1 : nil
        }
        return takesValue && !word.contains("=") && i + 1 < arguments.count ? 2 : 1
    }

    /// `--name` of `--name=value`.
    private static func optionName(_ word: String) -> String {
        word.split(separator: "=", maxSplits: 1).first.map(String.init) ?? word
    }

    /// restic's global options that are options of some commands in snap, each with the
    /// property that declares it: before the command they go to the commands that have them
    /// and are dropped for the others, as restic's are unused there (`--pack-size`: snap sets
    /// it once, at `init`).
    static let commandOptions: [String: String] = ["--compression": "compression", "--pack-size": "packSizeMiB"]

    /// Why the value of a `commandOptions` option before the command is not one (restic
    /// refuses it for every command, including those that pass over it), or `nil`.
    private static func invalidDroppedValue(_ group: [String]) -> String? {
        let name = optionName(group[0])
        guard commandOptions[name] != nil else { return nil }
        let value = group[0].contains("=") ? String(group[0].drop { $0 != "=" }.dropFirst()) : group.count > 1 ? group[1] : ""
        switch name {
        case "--compression":
            do { _ = try InputValidation.compression(value) } catch { return "Error: --compression '\(value)': \(error)" }
        default:
            guard let mib = Int(value), (1...1024).contains(mib) else { return "Error: --pack-size '\(value)' is not a number of MiB from 1 to 1024" }
        }
        return nil
    }

    /// Whether `command` declares the option held in its property `property`.
    private static func declares(_ command: ParsableCommand.Type, _ property: String) -> Bool {
        Mirror(reflecting: command.init()).children.contains { $0.label == "_" + property }
    }

    /// Whether `word` is a short global option that takes a value with the value attached (`-r/srv/repo`).
    private static func attachedShortValue(_ word: String) -> Bool {
        guard word.count > 2, !word.hasPrefix("--") else { return false }
        return options[String(word.prefix(2))] == true
    }

    /// restic's `--verbose=N` (a counted flag with a value) as N `-v`s, which is how snap's
    /// parser counts them; `--verbose=0` is dropped. Words after `--` are left alone, and
    /// a value that is not a small number is left for the parser to refuse.
    static func expandingVerbosity(_ arguments: [String]) -> [String] {
        var expanded: [String] = []
        for (i, word) in arguments.enumerated() {
            if word == "--" { return expanded + arguments[i...] }
            guard word.hasPrefix("--verbose="), let count = Int(word.dropFirst("--verbose=".count)), (0...9).contains(count) else {
                expanded.append(word)
                continue
            }
            expanded += repeatElement("-v", count: count)
        }
        return expanded
    }

    /// Whether `command` declares the global options (an `@OptionGroup(title: "Global options") var global: GlobalOptions`).
    static func takesGlobalOptions(_ command: ParsableCommand.Type) -> Bool {
        Mirror(reflecting: command.init()).children.contains { $0.value is OptionGroup<GlobalOptions> }
    }

    /// Whether `command` declares a `--json` flag of its own (`version`).
    static func declaresJSON(_ command: ParsableCommand.Type) -> Bool {
        Mirror(reflecting: command.init()).children.contains { $0.label == "_json" && $0.value is Flag<Bool> }
    }

    /// The commands, for the unknown-command message.
    static var commandNames: [String] {
        Snap.configuration.subcommands.compactMap { $0.configuration.commandName }
    }
}
