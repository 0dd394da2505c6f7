import SnapCore

extension IndexTableBuilder {
    /// Writes a new table at `path` holding `table`'s records and packs and the records of
    /// the index files of `newFiles` named in `live` (the caller made sure that no new file
    /// supersedes a live file of the table), by one streaming pass over the mapped table:
    /// the old records are never all in memory. Every new file, live or not, is recorded
    /// in the new table's file list with its edges.
    /// - Throws: `IndexTableError.malformed` when a bucket of the old table is damaged (the
    ///   caller then rebuilds from the index files), or what writing throws.
    static func extend(_ table: MappedIndexTable, with newFiles: [(id: IndexID, file: IndexFile)], live: Set<IndexID>,
                       path: String) throws {
        var packs = (0..<table.packCount).map { n in
            let row = table.packRow(n)
            return IndexTableWriter.Pack(id: row.id, salt: row.salt, size: row.size)
        }
        var numbers: [PackID: UInt32] = [:]
        var fresh: [BlobIndex.Record] = []
        for (id, file) in newFiles where live.contains(id) {
            for pack in file.packs {
                let number: UInt32
                if let known = table.packNumber(of: pack.id) ?? numbers[pack.id] {
                    number = known
                } else {
                    number = UInt32(packs.count)
                    numbers[pack.id] = number
                    packs.append(.init(id: pack.id, salt: pack.salt, size: pack.size))
                }
                for e in pack.entries where table.find(e.id.raw) == nil { fresh.append(BlobIndex.record(e, pack: number)) }
            }
        }
        fresh.sort { $0.id < $1.id }
        let writer = try IndexTableWriter(path: path)
        var j = 0
        var last: RawID?
        func appendFresh(before id: RawID?) throws {
            while j < fresh.count, id.map({ fresh[j].id < $0 }) ?? true {
                if fresh[j].id != last { try writer.append(fresh[j]); last = fresh[j].id }
                j += 1
            }
        }
        let sound = try table.forEach { r in
            try appendFresh(before: r.id)
            try writer.append(r)
            last = r.id
        }
        guard sound else { throw IndexTableError.malformed(path: table.path, reason: "a damaged bucket") }
        try appendFresh(before: nil)
        try writer.finish(packs: packs, files: table.files + newFiles.map(\.id),
                          edges: table.edges + newFiles.flatMap { item in item.file.supersedes.map { (item.id, $0) } })
    }
}
