import ArgumentParser
import SnapEngine
import SnapRepository
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A user-facing error raised by the CLI itself.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    /// The exit code: 1 unless the error stands for one with a code of its own.
    let exitCode: Int32
    init(_ description: String, exitCode: Int32 = Exit.fatal) { self.description = description; self.exitCode = exitCode }
}

/// Exit codes documented in README.md: restic 0.17's.
enum Exit {
    static let fatal: Int32 = 1
    static let partial: Int32 = 3
    /// The location holds no repository.
    static let noRepository: Int32 = 10
    /// A lock could not be taken (another prune, a host clock far off, locks/ unreadable).
    static let lockFailed: Int32 = 11
    /// No key file opens with the password.
    static let wrongPassword: Int32 = 12

    /// The code for a command that failed with `error`.
    static func code(for error: any Error) -> Int32 {
        switch error {
        case RepositoryError.notARepository: return noRepository
        // A withdrawn key: the key file this password opened is gone, so most likely it opens nothing now.
        case RepositoryError.wrongPassword, RepositoryError.keyWithdrawn: return wrongPassword
        case is CoordinationError, PruneError.anotherPruneRunning, RepairError.pruneRunning: return lockFailed
        case let error as CLIError: return error.exitCode
        default: return fatal
        }
    }
}

/// Writes to standard output and standard error.
enum Output {
    static func line(_ text: String) {
        StandardStreams.out(Array((text + "\n").utf8))
    }

    /// A line on standard error; under --json, an `error` message carrying it, so that
    /// standard error holds only JSON (docs/json.md).
    static func error(_ text: String) {
        if jsonErrors {
            jsonError(ErrorMessageJSON(error: .init(message: text)))
        } else {
            StandardStreams.err(Array((text + "\n").utf8))
        }
    }

    /// Bytes on standard output, as they are.
    static func write(_ bytes: [UInt8]) {
        StandardStreams.out(bytes)
    }

    static var stdoutIsTerminal: Bool { isatty(STDOUT_FILENO) == 1 }

    /// A command's one JSON document (`snapshots --json`, `stats --json`, …), compact on one
    /// line as restic prints them, so line-oriented readers take it whole.
    static func json<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        line(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    /// A JSON document indented for people to read (`cat`, which restic indents too).
    static func indentedJSON<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        line(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    /// One compact JSON object on a line (NDJSON), for streams of messages.
    static func jsonLine<T: Encodable>(_ value: T) throws {
        line(jsonText(value))
    }

    /// The final message of a command's JSON stream: `value`'s fields with
    /// `"message_type": "summary"` and the command's `requests`, on one line (docs/json.md).
    static func jsonSummary<T: Encodable>(_ value: T) throws {
        try jsonLine(WithRequests(value: SummaryMessage(value: value)))
    }

    /// `value` as compact JSON text on one line.
    static func jsonText<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// A JSON message on standard error (errors under --json).
    static func jsonError<T: Encodable>(_ value: T) {
        StandardStreams.err(Array((jsonText(value) + "\n").utf8))
    }

    /// Whether errors are printed as JSON messages: the command was given --json.
    nonisolated(unsafe) static var jsonErrors = false

    static func bytes(_ n: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(n)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(n) B" : String(format: "%.2f %@", value, units[unit])
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}

/// Runs a command body, printing any error as one line on standard error and exiting with
/// its code (`Exit.code(for:)`: 1, or 10, 11, 12 as restic does).
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        Interruption.yieldIfInterrupted()
        let code = Exit.code(for: error)
        if Output.jsonErrors {
            Output.jsonError(ExitErrorJSON(code: code, message: "\(error)"))
        } else {
            Output.error("snap: \(error)")
        }
        throw ExitCode(code)
    }
}

/// An object's fields with `message_type` added: the object encodes itself into the same
/// keyed container first.
struct SummaryMessage<Value: Encodable>: Encodable {
    let value: Value
    private enum Keys: String, CodingKey { case messageType = "message_type" }

    func encode(to encoder: any Encoder) throws {
        try value.encode(to: encoder)
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode("summary", forKey: .messageType)
    }
}

/// Two objects' fields in one JSON object (each encodes itself into the same keyed container).
struct MergedJSON<First: Encodable, Second: Encodable>: Encodable {
    let first: First
    let second: Second

    func encode(to encoder: any Encoder) throws {
        try first.encode(to: encoder)
        try second.encode(to: encoder)
    }
}

/// A message for the user under --json (a warning, or an error that does not end the
/// command); backup adds restic's `during` and the `item` concerned.
struct ErrorMessageJSON: Encodable {
    struct Message: Encodable { let message: String }
    let messageType = "error"
    let error: Message
    var during: String? = nil
    var item: String? = nil
    enum CodingKeys: String, CodingKey { case messageType = "message_type", error, during, item }
}

/// A fatal error under --json, as restic 0.17 prints it (docs/json.md).
struct ExitErrorJSON: Encodable {
    let messageType = "exit_error"
    let code: Int32
    let message: String
    enum CodingKeys: String, CodingKey { case messageType = "message_type", code, message }
}
