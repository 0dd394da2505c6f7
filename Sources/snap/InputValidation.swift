import ArgumentParser
import SnapCompression
import SnapEngine

/// Checks of option values shared by several commands, so that each option means the same
/// wherever it appears. Each throws a `ValidationError` (exit 64) naming the option and the value.
enum InputValidation {
    /// `--compression LEVEL` (init, backup): a whole number in the linked zstd's range, or
    /// restic's words: `auto` (the default: the repository's level for a backup, 3 for init),
    /// `max` (level 11, about what restic's `max` gives) and `off` (snap always compresses:
    /// level 1, zstd's fastest standard level; data that does not compress is stored as it
    /// is by zstd). A `nil` level stands for `auto`. A transform for `@Option`: ArgumentParser names
    /// the option and the value around the message. Its options use `parsing: .unconditional`,
    /// so that `--compression -5` reads `-5` as the value instead of as an unknown option.
    static func compression(_ text: String) throws -> CompressionChoice {
        switch text {
        case "auto": return CompressionChoice(level: nil)
        case "max": return CompressionChoice(level: 11)
        case "off": return CompressionChoice(level: 1)
        default: break
        }
        let range = ZstdCompressor.levels
        guard let level = Int(text) else {
            throw ValidationError("'\(text)' is not a whole number (zstd levels \(range.lowerBound)…\(range.upperBound)) or auto, max or off")
        }
        do {
            try ZstdCompressor.validate(level: level)
        } catch {
            throw ValidationError("\(error)")
        }
        return CompressionChoice(level: level)
    }

    /// A `--compression` value: a zstd level, or `nil` for restic's `auto`.
    struct CompressionChoice {
        let level: Int?
    }

    /// Every pattern of `option` (`--exclude`, `--include`, `find`'s) can be parsed with
    /// restic's rules (`FilterPattern`); an empty one is refused.
    static func patterns(_ patterns: [PatternText], option: String) throws {
        for pattern in patterns {
            do { _ = try FilterPattern(pattern) } catch { throw ValidationError("\(option): \(error)") }
        }
    }

    /// A host name given with `option` is not empty or blank: a snapshot needs one, and an
    /// empty filter would select nothing anyone meant.
    static func hosts(_ hosts: [String], option: String = "--host") throws {
        if hosts.contains(where: { $0.allSatisfy(\.isWhitespace) }) { throw ValidationError("\(option) must not be empty") }
    }

    /// A time for `option` (`--time`, `--at`) that `RFC3339.parse` reads.
    static func time(_ text: String?, option: String) throws {
        guard let text, RFC3339.parse(text) == nil else { return }
        throw ValidationError("\(option) '\(text)' is not a date and time (e.g. 2024-05-01T12:00:00Z, or 2024-05-01 12:00 local time)")
    }
}
