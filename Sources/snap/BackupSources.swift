import Foundation
import SnapEngine
import SnapCore
#if canImport(Glibc)
import Glibc
#endif

/// The paths `--files-from`, `--files-from-verbatim` and `--files-from-raw` name, with
/// restic's rules for each: `-` is standard input; `--files-from` skips blank lines and
/// `#` comments, trims spaces and expands glob patterns (one that matches nothing is
/// skipped with a warning); `--files-from-verbatim` takes each non-empty line as it is;
/// `--files-from-raw` takes NUL-terminated names, so any byte but NUL may be in a name.
/// The first two read text as restic does: a UTF-8 byte order mark is dropped, UTF-16 with
/// one decoded.
enum FileList {
    enum Kind { case patterns, verbatim, raw }

    static func read(_ source: String, kind: Kind, warn: (String) -> Void) throws -> [[UInt8]] {
        var bytes = try contents(of: source)
        if kind != .raw {
            // As restic's `textfile.Read`: a UTF-8 byte order mark dropped, UTF-16 decoded
            // (lists written by Windows tools), or the first path would not be found.
            guard let text = PatternFile.decode(bytes) else {
                throw CLIError("cannot read the file list \(source): it starts with a UTF-16 byte order mark but is not UTF-16 text")
            }
            bytes = text
        }
        switch kind {
        case .raw:
            return bytes.split(separator: 0).map(Array.init)
        case .verbatim:
            return bytes.split(separator: UInt8(ascii: "\n")).map { line in
                line.last == UInt8(ascii: "\r") ? Array(line.dropLast()) : Array(line)
            }.filter { !$0.isEmpty }
        case .patterns:
            var paths: [[UInt8]] = []
            for line in bytes.split(separator: UInt8(ascii: "\n")) {
                let trimmed = trim(Array(line))
                guard !trimmed.isEmpty, trimmed.first != UInt8(ascii: "#") else { continue }
                let matches = expand(trimmed)
                if matches.isEmpty { warn("\(source): pattern \(PathBytes.display(trimmed)) matches no file; skipped") }
                paths += matches
            }
            return paths
        }
    }

    /// The largest file list read: some 10 million paths.
    private static let largestList = 1 << 30

    /// A list's bytes; a pipe (`<(find …)`) is waited for as long as its command runs.
    private static func contents(of source: String) throws -> [UInt8] {
        if source == "-" { return try StandardStreams.readInput().get() }
        do { return try SmallFile.read(source, limit: largestList, waitSeconds: .infinity, keep: true) } catch {
            throw CLIError("cannot read the file list \(source): \(error.cause)")
        }
    }

    private static func trim(_ line: [UInt8]) -> [UInt8] {
        let space: Set<UInt8> = [9, 10, 11, 12, 13, 32]
        return Array(line.drop { space.contains($0) }.reversed().drop { space.contains($0) }.reversed())
    }

    /// The paths a glob pattern names, in sorted order (libc's `glob`); a pattern without
    /// special characters names itself when it exists.
    private static func expand(_ pattern: [UInt8]) -> [[UInt8]] {
        var result = glob_t()
        defer { globfree(&result) }
        let status = PathBytes.withCString(pattern) { glob($0, 0, nil, &result) }
        guard status == 0 else { return [] }
        return (0..<Int(result.gl_pathc)).compactMap { i in
            result.gl_pathv[i].map { p in Array(UnsafeBufferPointer(start: p, count: strlen(p))).map { UInt8(bitPattern: $0) } }
        }
    }
}

/// `--stdin-from-command`: runs a command (without a shell, as restic does) whose standard
/// output becomes the stream to back up. Its exit status decides: not zero, and the
/// backup is abandoned before a snapshot is written. An interrupted snap ends it
/// (`Interruption`); it takes Ctrl-C and SIGTERM as a program started from a shell does
/// (`ChildProcess`).
final class StreamCommand: Sendable {
    private let child: ChildProcess
    /// The read end of the command's standard output.
    let fd: Int32
    private let arguments: [String]

    init(_ arguments: [String]) throws {
        self.arguments = arguments
        guard let program = arguments.first else { throw CLIError("--stdin-from-command needs the command to run after --") }
        let path = program.contains("/") ? program : try Self.find(program)
        do { child = try ChildProcess.spawn(path, arguments: arguments, output: .pipe) } catch {
            throw CLIError("cannot run \(program): \(error)")
        }
        fd = child.output ?? -1  // always set for `.pipe`
        Interruption.addChild(child.pid)
    }

    deinit { close(fd) }

    /// Waits for the command to exit once its output has ended; throws unless it exited with 0.
    func finish() throws {
        let termination = child.wait()
        Interruption.removeChild(child.pid)
        let name = arguments.first ?? "command"
        switch termination {
        case .exited(0):
            return
        case .exited(let status):
            throw CLIError("\(name) exited with status \(status): no snapshot was saved")
        case .signalled(let signal):
            throw CLIError("\(name) was killed by signal \(signal): no snapshot was saved")
        }
    }

    /// `program` looked up in `PATH`, as a shell would.
    private static func find(_ program: String) throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for folder in path.split(separator: ":") where access("\(folder)/\(program)", X_OK) == 0 {
            return "\(folder)/\(program)"
        }
        throw CLIError("cannot run \(program): not found in PATH")
    }
}
