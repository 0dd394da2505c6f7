import ArgumentParser
import SnapEngine

/// Where a backup's content comes from besides path arguments: a stream (standard input
/// or a command's output) or lists of paths, with restic's flags and meaning.
struct BackupInputOptions: ParsableArguments {
    @Flag(help: "Back up standard input as one file (named by --stdin-filename).")
    var stdin = false

    @Flag(help: "Run the command given after -- and back up its output as one file; a command that fails leaves no snapshot.")
    var stdinFromCommand = false

    @Flag(help: "Import a tar archive read from standard input (or from --stdin-from-command's output) as the snapshot: GNU and PAX tar, long names, xattrs, hard links, sparse files (docs/usage.md).")
    var stdinTar = false

    @Option(parsing: .unconditional, help: ArgumentHelp("The file name (or path) of the stream in the snapshot (default: stdin).", valueName: "name"))
    var stdinFilename: String?

    /// The stream's name in the snapshot, as given.
    private var streamName: String { stdinFilename ?? "stdin" }

    /// The stream's path in the snapshot: `streamName`'s bytes as given (not UTF-8 too),
    /// cleaned as restic cleans it (`./x` is `x`, `a/./b/../c` is `a/c`); `nil` when nothing
    /// is left or `..` leaves the root.
    private var streamPath: [UInt8]? {
        let slash = UInt8(ascii: "/"), dot = UInt8(ascii: ".")
        var parts: [ArraySlice<UInt8>] = []
        for part in RawArguments.bytes(ofOption: "--stdin-filename", value: streamName).split(separator: slash) where part != [dot] {
            if part == [dot, dot] {
                guard parts.popLast() != nil else { return nil }
            } else {
                parts.append(part)
            }
        }
        return parts.isEmpty ? nil : Array(parts.joined(separator: [slash]))
    }

    @Option(parsing: .unconditionalSingleValue, help: ArgumentHelp("Back up the paths listed in this file, one per line ('-': standard input); # comments, blank lines skipped, glob patterns expanded (repeatable).", valueName: "file"))
    var filesFrom: [String] = []

    @Option(parsing: .unconditionalSingleValue, help: ArgumentHelp("Like --files-from, but each line is a path as it is: no comments, no patterns (repeatable).", valueName: "file"))
    var filesFromVerbatim: [String] = []

    @Option(parsing: .unconditionalSingleValue, help: ArgumentHelp("Like --files-from-verbatim, but each path ends with a NUL byte, as find -print0 writes them (repeatable).", valueName: "file"))
    var filesFromRaw: [String] = []

    /// What to back up, as resolved from the arguments.
    struct Sources {
        var paths: [[UInt8]] = []
        /// The stream's path in the snapshot, when a stream is backed up.
        var stream: [UInt8]?
        /// The command whose output is the stream.
        var command: [String]?
        /// The stream is a tar archive to import.
        var tar = false
    }

    func validate(paths: [String]) throws {
        let lists = !filesFrom.isEmpty || !filesFromVerbatim.isEmpty || !filesFromRaw.isEmpty
        if stdinTar {
            guard !stdin else { throw ValidationError("--stdin-tar reads standard input itself: leave out --stdin") }
            guard !lists else { throw ValidationError("--stdin-tar cannot be combined with --files-from") }
            guard stdinFilename == nil else { throw ValidationError("--stdin-tar keeps the archive's own names: leave out --stdin-filename") }
            if stdinFromCommand && paths.isEmpty { throw ValidationError("--stdin-from-command needs the command after --, e.g. -- borg export-tar REPO::ARCHIVE -") }
            if !stdinFromCommand && !paths.isEmpty { throw ValidationError("--stdin-tar imports standard input only: remove the paths \(paths.joined(separator: " "))") }
        } else if stdin || stdinFromCommand {
            guard !(stdin && stdinFromCommand) else { throw ValidationError("--stdin and --stdin-from-command exclude each other") }
            guard !lists else { throw ValidationError("a stream cannot be combined with --files-from") }
            if stdin && !paths.isEmpty { throw ValidationError("--stdin backs up standard input only: remove the paths \(paths.joined(separator: " "))") }
            if stdinFromCommand && paths.isEmpty { throw ValidationError("--stdin-from-command needs the command after --, e.g. -- pg_dump mydb") }
            guard streamPath != nil else {
                throw ValidationError("--stdin-filename '\(streamName)' is not a usable file name: it names no file below the root")
            }
        } else if paths.isEmpty && !lists {
            throw ValidationError("give at least one path to back up (or --files-from, --stdin)")
        }
        let fromStdin = (filesFrom + filesFromVerbatim + filesFromRaw).filter { $0 == "-" }.count
        if fromStdin > 1 { throw ValidationError("only one file list can be read from standard input ('-')") }
    }

    /// The paths and stream to back up: path arguments with their raw bytes, then those of
    /// the file lists. Throws when a list cannot be read or names nothing at all.
    func sources(paths: [String]) throws -> Sources {
        if stdinTar { return Sources(command: stdinFromCommand ? paths : nil, tar: true) }
        if stdin { return Sources(stream: streamPath) }
        if stdinFromCommand { return Sources(stream: streamPath, command: paths) }
        var result = Sources(paths: RawArguments.bytes(of: paths))
        let warn = { (text: String) in Output.error("warning: \(text)") }
        for file in filesFrom { result.paths += try FileList.read(file, kind: .patterns, warn: warn) }
        for file in filesFromVerbatim { result.paths += try FileList.read(file, kind: .verbatim, warn: warn) }
        for file in filesFromRaw { result.paths += try FileList.read(file, kind: .raw, warn: warn) }
        if result.paths.isEmpty { throw CLIError("the file lists name nothing to back up: no snapshot was saved") }
        return result
    }
}
