#if canImport(Glibc)
import Glibc
#endif

/// Command-line arguments as the bytes the shell passed: `CommandLine.arguments` (and so
/// ArgumentParser) replaces bytes that are not UTF-8 with U+FFFD, which would turn a path
/// named in Latin-1 into one that does not exist.
enum RawArguments {
    /// Every argument's bytes, in order, without the program name.
    static let all: [[UInt8]] = (1..<Int(CommandLine.argc)).compactMap { i in
        CommandLine.unsafeArgv[i].map { pointer in Array(UnsafeBufferPointer(start: pointer, count: strlen(pointer))).map { UInt8(bitPattern: $0) } }
    }

    /// The bytes of each of `values` (arguments as ArgumentParser gave them, in command-line
    /// order): a value that holds U+FFFD is matched, in order, with the raw argument it was
    /// decoded from; any other value is its UTF-8.
    static func bytes(of values: [String], among raw: [[UInt8]] = all) -> [[UInt8]] {
        var next = 0
        return values.map { value in
            guard value.unicodeScalars.contains("\u{FFFD}") else { return Array(value.utf8) }
            for i in next..<raw.count where String(decoding: raw[i], as: UTF8.self) == value {
                next = i + 1
                return raw[i]
            }
            return Array(value.utf8)
        }
    }

    /// The bytes of the value `value` of option `name` (`--name VALUE` or `--name=VALUE`):
    /// as `bytes(of:)`, for an option's value.
    static func bytes(ofOption name: String, value: String, among raw: [[UInt8]] = all) -> [UInt8] {
        bytes(ofOption: [name], values: [value], among: raw)[0]
    }

    /// The bytes of each of `values`, the values of one option known by any of `names`
    /// (`-e X`, `--exclude X`, `--exclude=X`) in command-line order: a value that holds
    /// U+FFFD is matched, in order, with the raw word it was decoded from.
    static func bytes(ofOption names: [String], values: [String], among raw: [[UInt8]] = all) -> [[UInt8]] {
        let options = names.map { Array($0.utf8) }
        var next = 0
        func decoded(_ word: some Collection<UInt8>) -> String { String(decoding: word, as: UTF8.self) }
        return values.map { value in
            guard value.unicodeScalars.contains("\u{FFFD}") else { return Array(value.utf8) }
            for i in next..<max(next, raw.count) {
                let word = raw[i]
                for option in options {
                    let attached = option + [UInt8(ascii: "=")]
                    if word.starts(with: attached), decoded(word.dropFirst(attached.count)) == value {
                        next = i + 1
                        return Array(word.dropFirst(attached.count))
                    }
                    if i > 0, raw[i - 1] == option, decoded(word) == value {
                        next = i + 1
                        return word
                    }
                }
            }
            return Array(value.utf8)
        }
    }
}
