import ArgumentParser
import SnapStorage

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Print the IDs of one kind of repository file, one a line, for scripts.",
        discussion: """
        Kinds: snapshots, index, packs, keys, locks (restic's names; 'data' works for packs), and blobs: every blob \
        the index names, as 'data ID' or 'tree ID' (restic's form).
        """)

    @Argument(help: "snapshots, index, packs, keys, locks or blobs.")
    var kind: String

    @OptionGroup(title: "Global options") var global: GlobalOptions

    static let kinds: [String: FileKind] = [
        "snapshots": .snapshots, "index": .index, "packs": .data, "data": .data, "keys": .keys, "locks": .locks,
    ]

    func validate() throws {
        guard Self.kinds[kind] != nil || kind == "blobs" else {
            throw ValidationError("'\(kind)' is not a kind of file: use snapshots, index, packs, keys, locks or blobs")
        }
    }

    func run() throws {
        try reportingErrors {
            guard let fileKind = Self.kinds[kind] else { return try listBlobs() }
            // The password is asked for, as restic does, so that only key holders list.
            let repository = try global.openRepository(cache: false)
            let names = try repository.backend.list(fileKind).map(\.file.name).filter { $0.count == 64 && $0.allSatisfy(\.isHexDigit) }.sorted()
            if global.json { try Output.json(names); return }
            for name in names { Output.line(name) }
        }
    }

    /// `list blobs`: the index's blobs, `TYPE ID` a line; with `--json` one array of
    /// `{"type", "id"}` objects, as the other kinds give one array, written as it goes.
    private func listBlobs() throws {
        let repository = try global.openRepository()
        try global.loadIndex(repository)
        let out = OutputBuffer()
        defer { out.flush() }
        var first = true
        if global.json { out.append(Array("[".utf8)) }
        repository.index.forEachEntry { entry in
            guard global.json else { return out.line("\(entry.type) \(entry.id.hex)") }
            out.append(Array(((first ? "" : ",") + "{\"id\":\"\(entry.id.hex)\",\"type\":\"\(entry.type)\"}").utf8))
            first = false
        }
        if global.json { out.line("]") }
    }
}
