import ArgumentParser
import SnapCore
import SnapEngine

struct LsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List the files in a snapshot.")

    @OptionGroup(title: "Global options") var global: GlobalOptions

    @Argument(help: "Snapshot ID, unique ID prefix, or 'latest'.")
    var snapshot: String

    @Argument(help: "Only list this path and what is below it.")
    var path: String?

    @Flag(name: .shortAndLong, help: "Long listing: type, mode, owner, size, time.")
    var long = false

    func run() throws {
        try reportingErrors {
            let repository = try global.openRepository()
            let record = try SnapshotStore.find(snapshot, in: repository, skipped: global.snapshotSkipped)
            try global.loadIndex(repository)
            var nodes: [NodeJSON] = []
            try TreeWalker(repository: repository).walk(record.snapshot.tree, under: Array((path ?? "/").utf8)) { path, node in
                if global.json { nodes.append(NodeJSON(node, path: path)); return }
                Output.line(long ? Self.longLine(node, path: path) : PathBytes.display(path))
            }
            if global.json { try Output.json(nodes) }
        }
    }
}

extension LsCommand {
    /// An `ls -l` style line: mode, owner, group, size, time, path.
    static func longLine(_ node: Node, path: [UInt8]) -> String {
        let owner = node.user.isEmpty ? String(node.uid) : node.user
        let group = node.group.isEmpty ? String(node.gid) : node.group
        return "\(Mode.text(node)) \(owner.padding(toLength: 8, withPad: " ", startingAt: 0)) \(group.padding(toLength: 8, withPad: " ", startingAt: 0)) "
            + "\(String(node.size).leftPad(12)) \(LocalTime.display(node.mtime)) \(PathBytes.display(path))"
    }
}

/// `ls -l` style mode strings.
enum Mode {
    static func text(_ node: Node) -> String {
        let kind: Character
        switch node.type {
        case .directory: kind = "d"
        case .symlink: kind = "l"
        case .fifo: kind = "p"
        case .characterDevice: kind = "c"
        case .blockDevice: kind = "b"
        case .socket: kind = "s"
        case .file, .hardlink: kind = "-"
        }
        var s = String(kind)
        let letters: [Character] = ["r", "w", "x"]
        for bit in (0..<9).reversed() { s.append(node.mode & (1 << UInt32(bit)) != 0 ? letters[(8 - bit) % 3] : "-") }
        return s
    }
}

extension String {
    func leftPad(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
