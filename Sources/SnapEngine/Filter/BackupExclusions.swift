#if canImport(Glibc)
import Glibc
#endif

/// `--exclude-if-present NAME[:HEADER]`: a folder holding a file `NAME` (that starts with
/// `HEADER`, when given) has everything but that file left out. `--exclude-caches` is
/// `CACHEDIR.TAG:Signature: 8a477f597d28d172789f06886806bc55`, as in restic.
public struct TagFileRule: Sendable, Equatable {
    public let name: [UInt8]
    public let header: [UInt8]

    /// The Cache Directory Tagging rule of `--exclude-caches`.
    public static let cacheDirectory = TagFileRule(name: Array("CACHEDIR.TAG".utf8),
                                                   header: Array("Signature: 8a477f597d28d172789f06886806bc55".utf8))

    public init(name: [UInt8], header: [UInt8] = []) {
        self.name = name
        self.header = header
    }

    /// Parses `NAME[:HEADER]`, split at the first `:` as restic does.
    /// - Throws: `TagFileRule.Invalid` when there is no name.
    public init(spec: String) throws(Invalid) {
        let bytes = Array(spec.utf8)
        let colon = bytes.firstIndex(of: UInt8(ascii: ":"))
        let name = colon.map { Array(bytes[..<$0]) } ?? bytes
        guard !name.isEmpty else { throw Invalid(spec: spec) }
        self.init(name: name, header: colon.map { Array(bytes[($0 + 1)...]) } ?? [])
    }

    public struct Invalid: Error, Equatable, Sendable, CustomStringConvertible {
        public let spec: String
        public var description: String { "'\(spec)' names no file (give NAME or NAME:HEADER)" }
    }
}

/// Everything that leaves entries out of a backup, restic's set: patterns, tag files,
/// a size limit and staying on one file system.
public struct BackupExclusions: Sendable, Equatable {
    /// `--exclude`, `--exclude-file`, `--iexclude`, `--iexclude-file`.
    public var patterns = PatternRules()
    /// `--exclude-if-present` and `--exclude-caches`.
    public var tagFiles: [TagFileRule] = []
    /// `--exclude-larger-than`: entries other than folders larger than this are left out.
    public var largerThan: UInt64?
    /// `--one-file-system`: folders on another file system than the backed-up path they
    /// lie below are kept as empty folders (mount points), other entries on one left out.
    public var oneFileSystem = false

    public init() {}

    public var isEmpty: Bool { patterns.isEmpty && tagFiles.isEmpty && largerThan == nil && !oneFileSystem }
}

/// Applies `BackupExclusions` during one walk. Not thread-safe: one per walking thread.
final class ExclusionCheck {
    let exclusions: BackupExclusions
    let patterns: PathFilter
    private let warn: (String) -> Void

    init(_ exclusions: BackupExclusions, warn: @escaping (String) -> Void) throws(FilterPatternError) {
        self.exclusions = exclusions
        patterns = try PathFilter(exclusions.patterns)
        self.warn = warn
    }

    /// Whether the entry at absolute `path` is left out by a pattern (decided before `lstat`).
    func excludedByName(_ path: [UInt8]) -> Bool {
        !patterns.isEmpty && patterns.matches(path)
    }

    /// The tag-file rules whose file is in the folder at `path` (with its header): its
    /// entries, other than those files, are left out.
    func tagRules(in path: [UInt8]) -> [TagFileRule] {
        exclusions.tagFiles.filter { isTagged(path, by: $0) }
    }

    /// Whether an entry named `name` in a folder tagged by `rules` is left out.
    static func excluded(_ name: [UInt8], taggedBy rules: [TagFileRule]) -> Bool {
        rules.contains { $0.name != name }
    }

    /// Whether an entry that is not a folder is left out by its `lstat` size.
    func excludedBySize(_ st: stat) -> Bool {
        guard let limit = exclusions.largerThan, st.st_mode & S_IFMT != S_IFDIR else { return false }
        return st.st_size > 0 && UInt64(st.st_size) > limit
    }

    private func isTagged(_ directory: [UInt8], by rule: TagFileRule) -> Bool {
        let file = PathBytes.join(directory, rule.name)
        do { _ = try FileSystem.lstat(file) } catch {
            if error.code != ENOENT && error.code != ENOTDIR { warn("could not access exclusion tagfile \(PathBytes.display(file)): \(error)") }
            return false
        }
        guard !rule.header.isEmpty else { return true }
        let start: [UInt8]
        do { start = try FileSystem.readPrefix(file, limit: rule.header.count) } catch {
            warn("could not read signature from exclusion tagfile \(PathBytes.display(file)): \(error)")
            return false
        }
        guard start == rule.header else {
            warn(start.count < rule.header.count ? "invalid (too short) signature in exclusion tagfile \(PathBytes.display(file))"
                                                 : "invalid signature in exclusion tagfile \(PathBytes.display(file))")
            return false
        }
        return true
    }
}
