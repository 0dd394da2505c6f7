import ArgumentParser
import SnapCore
import SnapEngine

struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff", abstract: "Show what changed between two snapshots.",
        discussion: """
        Lines start with + (added), - (removed), M (content changed), T (type changed) and, with \
        --metadata, U (only metadata changed); folders end with /. Unchanged folders are not read.
        """)

    @Argument(help: "The older snapshot (ID, unique prefix, or 'latest'; SNAPSHOT:folder compares that folder).")
    var first: String

    @Argument(help: "The newer snapshot.")
    var second: String

    @Flag(help: "Also list entries whose metadata alone changed (mode, owner, times, xattrs).")
    var metadata = false

    @OptionGroup(title: "Global options") var global: GlobalOptions

    func run() throws {
        try reportingErrors {
            let repository = try global.openRepository()
            let references = try SnapshotReference.resolve([first, second], in: repository, skipped: global.snapshotSkipped) {
                try global.loadIndex(repository, listed: $0)
            }
            let (refA, refB) = (references[0], references[1])
            let (a, b) = (refA.record, refB.record)
            if !global.json && !global.quiet { Output.line("comparing snapshot \(a.id.short) to \(b.id.short):\n") }
            let out = OutputBuffer()
            defer { out.flush() }
            let stats = try TreeDiff(repository: repository, metadata: metadata).compare(refA.tree, refB.tree) { change in
                if global.json {
                    out.line(Self.changeJSON(change))
                } else {
                    out.line("\(change.kind.rawValue)    \(PathBytes.display(change.path))")
                }
            }
            out.flush()
            if global.json {
                try Output.jsonLine(StatisticsJSON(sourceSnapshot: a.id.hex, targetSnapshot: b.id.hex, statistics: stats))
                return
            }
            guard !global.quiet else { return }
            Output.line("")
            Output.line("Files:   \(stats.filesAdded) new, \(stats.filesRemoved) removed, \(stats.filesModified) changed")
            Output.line("Dirs:    \(stats.foldersAdded) new, \(stats.foldersRemoved) removed")
            Output.line("Others:  \(stats.otherAdded) new, \(stats.otherRemoved) removed")
            if metadata || stats.typeChanged > 0 {
                Output.line("Changed: \(stats.metadataChanged) in metadata only, \(stats.typeChanged) in type")
            }
            Output.line("Added:   \(Output.bytes(stats.bytesAdded))")
            Output.line("Removed: \(Output.bytes(stats.bytesRemoved))")
        }
    }

    /// restic's `diff --json` change message (keys in byte order, as `JSONEncoder` sorts them).
    static func changeJSON(_ change: TreeChange) -> [UInt8] {
        var o = JSONObjectWriter(capacity: 128)
        o.field("message_type", "change")
        o.field("modifier", change.kind.rawValue)
        o.field("path", PathBytes.jsonText(change.path))
        return o.finished()
    }

    /// The last line: snap's `statistics` object, and restic's keys for the same counts
    /// (`changed_files`, `added` and `removed` with `files`, `dirs`, `others`, `bytes`;
    /// restic's blob counts are left out).
    struct StatisticsJSON: Encodable {
        let messageType = "statistics"
        let sourceSnapshot: String
        let targetSnapshot: String
        let statistics: TreeDiffStatistics

        struct Side: Encodable {
            let files: Int, dirs: Int, others: Int, bytes: UInt64
        }

        enum CodingKeys: String, CodingKey {
            case messageType = "message_type", sourceSnapshot = "source_snapshot", targetSnapshot = "target_snapshot", statistics
            case changedFiles = "changed_files", added, removed
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(messageType, forKey: .messageType)
            try c.encode(sourceSnapshot, forKey: .sourceSnapshot)
            try c.encode(targetSnapshot, forKey: .targetSnapshot)
            try c.encode(statistics, forKey: .statistics)
            let s = statistics
            try c.encode(s.filesModified, forKey: .changedFiles)
            try c.encode(Side(files: s.filesAdded, dirs: s.foldersAdded, others: s.otherAdded, bytes: s.bytesAdded), forKey: .added)
            try c.encode(Side(files: s.filesRemoved, dirs: s.foldersRemoved, others: s.otherRemoved, bytes: s.bytesRemoved), forKey: .removed)
        }
    }
}
