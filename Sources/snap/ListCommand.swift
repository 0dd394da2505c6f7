import ArgumentParser
import SnapStorage

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Print the IDs of one kind of repository file, one a line, for scripts.",
        discussion: "Kinds: snapshots, index, packs, keys, locks (restic's names; 'data' works for packs).")

    @Argument(help: "snapshots, index, packs, keys or locks.")
    var kind: String

    @OptionGroup(title: "Global options") var global: GlobalOptions

    static let kinds: [String: FileKind] = [
        "snapshots": .snapshots, "index": .index, "packs": .data, "data": .data, "keys": .keys, "locks": .locks,
    ]

    func validate() throws {
        guard Self.kinds[kind] != nil else {
            throw ValidationError("'\(kind)' is not a kind of file: use snapshots, index, packs, keys or locks")
        }
    }

    func run() throws {
        try reportingErrors {
            guard let fileKind = Self.kinds[kind] else { return }
            // The password is asked for, as restic does, so that only key holders list.
            let repository = try global.openRepository(cache: false)
            let names = try repository.backend.list(fileKind).map(\.file.name).filter { $0.count == 64 && $0.allSatisfy(\.isHexDigit) }.sorted()
            if global.json { try Output.json(names); return }
            for name in names { Output.line(name) }
        }
    }
}
