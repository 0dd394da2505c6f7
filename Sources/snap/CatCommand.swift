import ArgumentParser
import Foundation
import SnapCore
import SnapEngine
import SnapRepository
import SnapStorage

struct CatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cat", abstract: "Print a repository object, decrypted, as JSON.",
        discussion: """
        Objects: config | snapshot ID | tree ID | index ID | pack ID | key ID | lock ID | blob ID. IDs may be unique \
        prefixes; 'snapshot latest' works too. 'blob' prints the blob's content as it is (a chunk of a file, or a tree's \
        encoding); 'key' the key file as stored (its key is encrypted with the password).
        """)

    @OptionGroup(title: "Global options") var global: GlobalOptions

    static let kinds = ["config", "snapshot", "tree", "index", "pack", "key", "lock", "blob"]

    @Argument(help: "config, snapshot, tree, index, pack, key, lock or blob.")
    var kind: String

    @Argument(help: "The object's ID (not for config).")
    var id: String?

    func validate() throws {
        guard Self.kinds.contains(kind) else {
            throw ValidationError("unknown object '\(kind)': use config, snapshot, tree, index, pack, key, lock or blob")
        }
        if kind != "config" && id == nil { throw ValidationError("'cat \(kind)' needs an ID") }
    }

    func run() throws {
        try reportingErrors {
            let repository = try global.openRepository()
            switch kind {
            case "config":
                try Self.printIndented(try repository.loadConfigPlaintext())
            case "snapshot":
                try Output.indentedJSON(SnapshotJSON(try SnapshotStore.find(id ?? "", in: repository, skipped: global.snapshotSkipped)))
            case "tree":
                try global.loadIndex(repository)
                let blob = try IDPrefix.resolve(id ?? "", in: repository.index.blobIDs(withHexPrefix: id ?? ""), what: "tree", parse: { BlobID(hex: $0) })
                let tree = try TreeWalker(repository: repository).tree(blob)
                // An array of the nodes, one compact object a line.
                let nodes = tree.nodes.map { String(decoding: NodeJSON.text($0, path: nil), as: UTF8.self) }
                Output.line("[\n" + nodes.joined(separator: ",\n") + "\n]")
            case "blob":
                try global.loadIndex(repository)
                let blob = try IDPrefix.resolve(id ?? "", in: repository.index.blobIDs(withHexPrefix: id ?? ""), what: "blob",
                                                parse: { BlobID(hex: $0) })
                StandardStreams.out(try repository.loadBlob(blob))
            case "key":
                let keys = try repository.backend.list(.keys).compactMap { KeyID(hex: $0.file.name) }
                let key = try IDPrefix.resolve(id ?? "", in: keys, what: "key")
                try Self.printIndented(try repository.backend.read(FileName(.keys, key.hex)))
            case "lock":
                let scan = try Coordination.scan(repository)
                let matches = scan.files.filter { $0.id.hex.hasPrefix((id ?? "").lowercased()) }
                guard matches.count == 1, let file = matches.first else {
                    throw CLIError(matches.isEmpty ? "no readable lock \(id ?? "")" : "'\(id ?? "")' matches \(matches.count) locks; give more digits")
                }
                try Output.indentedJSON(file.record)
            case "index":
                let names = try repository.backend.list(.index).map(\.file.name)
                let index = try IDPrefix.resolve(id ?? "", in: names.compactMap(IndexID.init(hex:)), what: "index", parse: { IndexID(hex: $0) })
                try Output.indentedJSON(IndexJSON(try repository.loadIndexFile(index)))
            default:
                let infos = try repository.backend.list(.data)
                let pack = try IDPrefix.resolve(id ?? "", in: infos.compactMap { PackID(hex: $0.file.name) }, what: "pack", parse: { PackID(hex: $0) })
                let size = try repository.backend.stat(FileName(.data, pack.hex)).size
                let header = try PackFormat.readHeader(of: pack, size: size, from: repository.backend, keys: repository.keys)
                try Output.indentedJSON(IndexJSON.Pack(IndexedPack(id: pack, salt: header.salt, size: size, entries: header.entries)))
            }
        }
    }


    /// A JSON document, indented and with its keys sorted, as `cat` prints them.
    private static func printIndented(_ json: [UInt8]) throws {
        let object = try JSONSerialization.jsonObject(with: Data(json))
        let text = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        Output.line(String(decoding: text, as: UTF8.self))
    }
}
