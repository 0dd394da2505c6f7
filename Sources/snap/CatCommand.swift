import ArgumentParser
import Foundation
import SnapCore
import SnapEngine
import SnapRepository
import SnapStorage

struct CatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cat", abstract: "Print a repository object, decrypted, as JSON.",
        discussion: "Objects: config | snapshot ID | tree ID | index ID | pack ID. IDs may be unique prefixes; 'snapshot latest' works too.")

    @OptionGroup(title: "Global options") var global: GlobalOptions

    @Argument(help: "config, snapshot, tree, index or pack.")
    var kind: String

    @Argument(help: "The object's ID (not for config).")
    var id: String?

    func validate() throws {
        guard ["config", "snapshot", "tree", "index", "pack"].contains(kind) else {
            throw ValidationError("unknown object '\(kind)': use config, snapshot, tree, index or pack")
        }
        if kind != "config" && id == nil { throw ValidationError("'cat \(kind)' needs an ID") }
    }

    func run() throws {
        try reportingErrors {
            let repository = try global.openRepository()
            switch kind {
            case "config":
                let plaintext = try repository.loadConfigPlaintext()
                let object = try JSONSerialization.jsonObject(with: Data(plaintext))
                Output.line(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]), as: UTF8.self))
            case "snapshot":
                try Output.indentedJSON(SnapshotJSON(try SnapshotStore.find(id ?? "", in: repository, skipped: global.snapshotSkipped)))
            case "tree":
                try global.loadIndex(repository)
                let blob = try IDPrefix.resolve(id ?? "", in: repository.index.blobIDs(withHexPrefix: id ?? ""), what: "tree", parse: { BlobID(hex: $0) })
                let tree = try TreeWalker(repository: repository).tree(blob)
                // An array of the nodes, one compact object a line.
                let nodes = tree.nodes.map { String(decoding: NodeJSON.text($0, path: nil), as: UTF8.self) }
                Output.line("[\n" + nodes.joined(separator: ",\n") + "\n]")
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

}
