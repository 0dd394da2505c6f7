import SnapCore
import SnapEngine
import SnapRepository

/// `find --blob/--tree/--pack`: every use of the blobs searched for, snapshot by snapshot,
/// printed as restic prints it, so that scripts that read restic's output read snap's:
///
///     Found blob ID                     Found tree ID
///      ... in file PATH                  ... path PATH
///          (tree PARENT)                 ... in snapshot SHORT (TIME)
///      ... in snapshot SHORT (TIME)
///
/// or, under `--json`, one array of `{"object_type", "id", "path", "parent_tree" (blobs),
/// "snapshot", "time"}`. `--show-pack-id` adds, after them, where each blob found is stored
/// (`"pack_id"` in each JSON object; restic prints those lines after its JSON instead).
struct BlobUseSearch {
    let repository: Repository
    let ids: Set<BlobID>
    let kinds: BlobUses.Kinds
    /// `-O` and `-N`: uses by files or folders modified outside these times are left out.
    let modified: (from: Timestamp?, until: Timestamp?)
    let json: Bool
    let showPackID: Bool

    func run(_ records: [SnapshotRecord]) throws {
        let search = BlobUses(repository: repository, ids: ids, kinds: kinds)
        let out = OutputBuffer()
        defer { out.flush() }
        var found: [BlobID] = []
        var seen: Set<BlobID> = []
        if json { out.append(Array("[".utf8)) }
        var first = true
        for record in records {
            try search.search(record.snapshot.tree) { use in
                if let node = use.node {
                    if let from = modified.from, node.mtime < from { return }
                    if let until = modified.until, node.mtime > until { return }
                }
                if seen.insert(use.id).inserted { found.append(use.id) }
                if json {
                    out.append(Array((first ? "" : ",").utf8) + object(use, record))
                    first = false
                    return
                }
                let path = PathBytes.display(use.path)
                if use.isTree {
                    out.line("Found tree \(use.id.hex)")
                    out.line(" ... path \(path)")
                } else {
                    out.line("Found blob \(use.id.hex)")
                    out.line(" ... in file \(path)")
                    out.line("     (tree \(use.parentTree.hex))")
                }
                out.line(" ... in snapshot \(record.id.short) (\(LocalTime.display(record.snapshot.timestamp)))")
            }
        }
        if json {
            out.line(Array("]".utf8))
            return
        }
        guard showPackID else { return }
        for id in found {
            guard let location = repository.index.lookup(id) else { continue }
            let entry = location.entry
            out.line("Object belongs to pack \(location.pack.hex)")
            out.line(" ... Pack \(location.pack.short): <Blob (\(entry.type == .tree ? "tree" : "data")) \(id.short), offset \(entry.offset), "
                     + "length \(entry.length), uncompressed length \(entry.rawLength)>")
        }
    }

    /// One use as a JSON object, restic's fields first.
    private func object(_ use: BlobUses.Use, _ record: SnapshotRecord) -> [UInt8] {
        var o = JSONObjectWriter()
        o.field("object_type", use.isTree ? "tree" : "blob")
        o.field("id", use.id.hex)
        o.field("path", PathBytes.display(use.path))
        if !use.isTree { o.field("parent_tree", use.parentTree.hex) }
        o.field("snapshot", record.id.hex)
        o.field("time", record.snapshot.time)
        if showPackID, let location = repository.index.lookup(use.id) { o.field("pack_id", location.pack.hex) }
        return o.finished()
    }
}
