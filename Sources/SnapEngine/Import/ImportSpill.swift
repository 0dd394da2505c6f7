import SnapCore
import SnapStorage

/// Where the entries of sealed import folders wait (`ImportTree`): a nameless temporary file
/// (`StagedFile`, in `$TMPDIR`), made at the first seal and gone when the import ends.
///
/// A record is the entries as a tree would encode them (`Tree.encoded`, so every field
/// comes back as it went), then each entry's hard-link group (0 for none, else the group
/// number plus one).
final class ImportSpill {
    private var file: StagedFile?
    /// Bytes written so far (tests).
    private(set) var bytesWritten = 0

    /// Writes `leaves` (names unique) and returns where they are.
    func write(_ leaves: [(node: Node, group: Int?)]) throws -> Range<Int> {
        let sorted = leaves.sorted { $0.node.name.lexicographicallyPrecedes($1.node.name) }
        var w = ByteWriter(capacity: 64 + sorted.count * 128)
        w.data(Tree(nodes: sorted.map(\.node)).encoded())
        for leaf in sorted { w.uvarint(leaf.group.map { UInt64($0) + 1 } ?? 0) }
        let target = try file ?? StagedFile.temporary()
        file = target
        let start = target.size
        try target.append(w.bytes)
        bytesWritten += w.bytes.count
        return start..<target.size
    }

    /// The entries written at `range`, in name order.
    ///
    /// - Throws: `ImportError.spillUnreadable` when they do not read back as written.
    func read(_ range: Range<Int>) throws -> [(node: Node, group: Int?)] {
        guard let file else { throw ImportError.spillUnreadable("nothing was written") }
        do {
            var r = ByteReader(try file.read(range))
            let nodes = try Tree.decode(try r.data()).nodes
            return try nodes.map { node in
                let group = try r.uvarint()
                return (node, group == 0 ? nil : Int(group - 1))
            }
        } catch let error as ImportError {
            throw error
        } catch {
            throw ImportError.spillUnreadable("\(error)")
        }
    }
}
