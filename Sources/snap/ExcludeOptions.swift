import ArgumentParser
import Foundation
import SnapEngine

/// Patterns read from options and files, with where each came from for messages.
struct GatheredPatterns {
    var rules = PatternRules()
    /// "--exclude", "--exclude-file F", … by pattern and whether it ignores case.
    private var origins: [Origin: String] = [:]

    private struct Origin: Hashable {
        var pattern: PatternText
        var ignoresCase: Bool
    }

    /// Adds `--option` values, then the patterns of the files of `--option-file` (restic's order).
    /// A value's bytes are taken from the command line as the shell passed them, so a pattern
    /// for a name that is not UTF-8 matches it (`short` is the option's one-letter spelling).
    mutating func add(_ values: [String], short: String? = nil, files: [String], option: String, ignoringCase: Bool) throws {
        let spellings = ["--\(option)"] + (short.map { ["-\($0)"] } ?? [])
        var all = RawArguments.bytes(ofOption: spellings, values: values).map { (PatternText(bytes: $0), "--\(option)") }
        for file in files {
            do {
                all += try PatternFile.read(file, environment: ProcessInfo.processInfo.environment).map { ($0, "--\(option)-file \(file)") }
            } catch {
                // As restic's, `-` is a file of that name; say where standard input is.
                throw ValidationError("--\(option)-file: \(error)" + (file == "-" ? " (for standard input, give /dev/stdin)" : ""))
            }
        }
        for (pattern, origin) in all {
            if origin == "--\(option)" || !pattern.isEmpty {
                do { _ = try FilterPattern(pattern) } catch { throw ValidationError("\(origin): \(error)") }
            }
            let key = Origin(pattern: pattern, ignoresCase: ignoringCase)
            origins[key] = origins[key] ?? origin
            if ignoringCase { rules.insensitivePatterns.append(pattern) } else { rules.patterns.append(pattern) }
        }
    }

    /// Prints one warning line per pattern that matched nothing.
    func warn(_ unmatched: [UnmatchedPattern]) {
        for u in unmatched {
            Output.error("warning: \(origins[Origin(pattern: u.pattern, ignoresCase: u.ignoresCase)] ?? "pattern") '\(u.pattern)' matched nothing")
        }
    }
}

/// restic's exclude pattern options (backup, restore, rewrite). Commas do not separate
/// patterns: like restic's string-array flags, each option gives exactly one.
struct ExcludeOptions: ParsableArguments {
    @Option(name: [.customShort("e"), .customLong("exclude")], parsing: .unconditionalSingleValue, help: ArgumentHelp(
        "Leave out entries matching this pattern (repeatable; restic's rules, see docs/usage.md).", valueName: "pattern"))
    var excludes: [String] = []

    @Option(name: .customLong("iexclude"), parsing: .unconditionalSingleValue, help: ArgumentHelp("As --exclude, ignoring case.", valueName: "pattern"))
    var insensitiveExcludes: [String] = []

    @Option(name: .customLong("exclude-file"), parsing: .unconditionalSingleValue, help: ArgumentHelp(
        "Read exclude patterns from this file, one a line (# comments, $VAR expanded; repeatable).", valueName: "file"))
    var excludeFiles: [String] = []

    @Option(name: .customLong("iexclude-file"), parsing: .unconditionalSingleValue, help: ArgumentHelp("As --exclude-file, ignoring case.", valueName: "file"))
    var insensitiveExcludeFiles: [String] = []

    var isEmpty: Bool { excludes.isEmpty && insensitiveExcludes.isEmpty && excludeFiles.isEmpty && insensitiveExcludeFiles.isEmpty }

    /// The patterns, files read and every pattern checked.
    /// - Throws: `ValidationError` naming the option, file or pattern at fault.
    func gather() throws -> GatheredPatterns {
        var gathered = GatheredPatterns()
        try gathered.add(insensitiveExcludes, files: insensitiveExcludeFiles, option: "iexclude", ignoringCase: true)
        try gathered.add(excludes, short: "e", files: excludeFiles, option: "exclude", ignoringCase: false)
        return gathered
    }

    func validate() throws { _ = try gather() }
}

/// restic's include pattern options (restore).
struct IncludeOptions: ParsableArguments {
    @Option(name: [.customShort("i"), .customLong("include")], parsing: .unconditionalSingleValue, help: ArgumentHelp(
        "Restore only entries matching this pattern, and the folders leading to them (repeatable).", valueName: "pattern"))
    var includes: [String] = []

    @Option(name: .customLong("iinclude"), parsing: .unconditionalSingleValue, help: ArgumentHelp("As --include, ignoring case.", valueName: "pattern"))
    var insensitiveIncludes: [String] = []

    @Option(name: .customLong("include-file"), parsing: .unconditionalSingleValue, help: ArgumentHelp(
        "Read include patterns from this file, one a line (# comments, $VAR expanded; repeatable).", valueName: "file"))
    var includeFiles: [String] = []

    @Option(name: .customLong("iinclude-file"), parsing: .unconditionalSingleValue, help: ArgumentHelp("As --include-file, ignoring case.", valueName: "file"))
    var insensitiveIncludeFiles: [String] = []

    func gather() throws -> GatheredPatterns {
        var gathered = GatheredPatterns()
        try gathered.add(insensitiveIncludes, files: insensitiveIncludeFiles, option: "iinclude", ignoringCase: true)
        try gathered.add(includes, short: "i", files: includeFiles, option: "include", ignoringCase: false)
        return gathered
    }

    func validate() throws { _ = try gather() }
}

/// restic's backup-only exclude options.
struct BackupExcludeOptions: ParsableArguments {
    @Flag(name: .customLong("exclude-caches"), help: "Leave out the contents of folders holding a valid CACHEDIR.TAG (the tag file is kept).")
    var excludeCaches = false

    @Option(name: .customLong("exclude-if-present"), parsing: .unconditionalSingleValue, help: ArgumentHelp(
        "Leave out the contents of folders holding a file NAME (starting with HEADER, if given), except that file (repeatable).",
        valueName: "name[:header]"))
    var excludeIfPresent: [String] = []

    @Option(name: .customLong("exclude-larger-than"), parsing: .unconditional, help: ArgumentHelp(
        "Leave out files larger than this (bytes, or with a k, m, g or t suffix: binary units).", valueName: "size"))
    var excludeLargerThan: String?

    @Flag(name: [.customShort("x"), .customLong("one-file-system")], help: "Do not cross into other file systems below the given paths.")
    var oneFileSystem = false

    /// The exclusions besides patterns.
    /// - Throws: `ValidationError` for a tag file without a name or a size that is not one.
    func exclusions() throws -> BackupExclusions {
        var result = BackupExclusions()
        result.oneFileSystem = oneFileSystem
        for spec in excludeIfPresent {
            do { result.tagFiles.append(try TagFileRule(spec: spec)) } catch { throw ValidationError("--exclude-if-present: \(error)") }
        }
        if excludeCaches { result.tagFiles.append(.cacheDirectory) }
        if let text = excludeLargerThan {
            guard let size = Self.size(text) else {
                throw ValidationError("--exclude-larger-than '\(text)' is not a size (a whole number of bytes, or with a k, m, g or t suffix)")
            }
            result.largerThan = size
        }
        return result
    }

    func validate() throws { _ = try exclusions() }

    /// restic's `parseSizeStr`: a whole number, optionally followed by one of b, k, m, g, t
    /// (either case; binary units). Negative sizes, which restic takes, are refused.
    static func size(_ text: String) -> UInt64? {
        guard let last = text.last else { return nil }
        let units: [Character: UInt64] = ["b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40]
        let unit = units[Character(last.lowercased())]
        let digits = unit == nil ? Substring(text) : text.dropLast()
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let value = UInt64(digits.hasPrefix("+") ? digits.dropFirst() : digits) else { return nil }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: unit ?? 1)
        return overflow ? nil : bytes
    }
}
