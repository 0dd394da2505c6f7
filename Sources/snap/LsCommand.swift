import ArgumentParser
import SnapCore
import SnapEngine

struct LsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls", abstract: "List the files in a snapshot.",
        discussion: """
        Without paths, everything is listed. With paths, each named entry and, for a folder, its \
        entries are listed; --recursive lists everything below them (restic's behaviour). --json \
        prints one JSON object a line: the snapshot first, then one per entry (restic's format).
        """)

    @Argument(help: "Snapshot ID, unique ID prefix, or 'latest'; SNAPSHOT:folder lists relative to that folder.")
    var snapshot: String

    @Argument(help: "Only these paths (absolute, as in the snapshot).")
    var paths: [String] = []

    @Flag(name: .shortAndLong, help: "Long listing: type and mode (with setuid, setgid, sticky), owner, size, time, symlink target.")
    var long = false

    @Flag(help: "With paths, list everything below them, not only their entries.")
    var recursive = false

    @Flag(name: .customLong("human-readable"), help: "With --long, print sizes in KiB, MiB, GiB.")
    var humanReadable = false

    @Flag(help: "Print the snapshot (or SNAPSHOT:subfolder) in ncdu's export format: snap ls latest --ncdu | ncdu -f -")
    var ncdu = false

    @OptionGroup(title: "Global options") var global: GlobalOptions
    /// `--host`, `--path`, `--tag`: which snapshot `latest` means, as in restic.
    @OptionGroup var filter: FilterOptions

    func validate() throws {
        guard ncdu else { return }
        if !paths.isEmpty { throw ValidationError("--ncdu exports the whole snapshot: give no paths (SNAPSHOT:subfolder picks a folder)") }
        if long || recursive { throw ValidationError("--ncdu cannot be combined with --long or --recursive") }
    }

    func run() throws {
        try reportingErrors {
            let repository = try global.openRepository()
            let reference = try SnapshotReference.resolve([snapshot], filter: filter.snapshotFilter, in: repository,
                                                          skipped: global.snapshotSkipped) {
                try global.loadIndex(repository, listed: $0)
            }[0]
            let record = reference.record
            let out = OutputBuffer()
            defer { out.flush() }
            if ncdu {
                let name = reference.subfolder.isEmpty ? [PathBytes.slash] : reference.subfolder
                try NcduExport(repository: repository).write(root: reference.tree, rootName: name, time: WallClock.now.seconds,
                                                             version: snapVersion) { out.append($0) }
                return
            }
            if global.json { try Output.jsonLine(SnapshotLine(record)) }
            // restic's first line (its verbose output, on standard output), so that scripts
            // that skip it (`| tail -n +2`) do not lose the first entry; not with -q, as restic.
            if !global.json && !global.quiet {
                out.line("snapshot \(record.id.short) of [\(record.snapshot.paths.joined(separator: " "))] filtered by "
                         + "[\(paths.joined(separator: " "))] at \(LocalTime.display(record.snapshot.timestamp)):")
            }
            let walker = TreeWalker(repository: repository)
            // Each path's bytes as the shell passed them: a name need not be UTF-8.
            for wanted in paths.isEmpty ? [[PathBytes.slash]] : RawArguments.bytes(of: paths) {
                var found = false
                let levels = paths.isEmpty || recursive ? nil : 2
                try walker.walk(reference.tree, under: wanted, levels: levels) { path, node in
                    found = true
                    if global.json { out.line(NodeJSON.text(node, path: path, marked: true)); return }
                    out.line(long ? Self.longLine(node, path: path, humanReadable: humanReadable) : PathBytes.display(path))
                }
                if !found && wanted != [PathBytes.slash] { throw CLIError("\(PathBytes.display(wanted)) is not in snapshot \(record.id.short)") }
            }
        }
    }

    /// restic's first `ls --json` line.
    struct SnapshotLine: Encodable {
        let messageType = "snapshot", structType = "snapshot"
        let id: String, shortID: String, time: String, hostname: String, username: String
        let paths: [String], tags: [String], tree: String
        init(_ r: SnapshotRecord) {
            id = r.id.hex; shortID = r.id.short; time = r.snapshot.time; hostname = r.snapshot.hostname
            username = r.snapshot.username; paths = r.snapshot.paths; tags = r.snapshot.tags; tree = r.snapshot.tree.hex
        }
        enum CodingKeys: String, CodingKey {
            case messageType = "message_type", structType = "struct_type", id, shortID = "short_id", time, hostname, username, paths, tags, tree
        }
    }
}

extension LsCommand {
    /// An `ls -l` style line: mode, owner, group, size (in bytes, or in KiB, MiB, … when
    /// `humanReadable`), time, path, and `-> target` for a symlink.
    static func longLine(_ node: Node, path: [UInt8], humanReadable: Bool = false) -> String {
        let owner = node.user.isEmpty ? String(node.uid) : node.user
        let group = node.group.isEmpty ? String(node.gid) : node.group
        let target = node.type == .symlink ? " -> " + PathBytes.display(node.linkTarget) : ""
        return "\(Mode.text(node)) \(owner.rightPad(8)) \(group.rightPad(8)) "
            + "\((humanReadable ? Output.bytes(node.size) : String(node.size)).leftPad(12)) \(LocalTime.display(node.mtime)) \(PathBytes.display(path))\(target)"
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
        // setuid, setgid, sticky: s/t over an x, S/T where x is not set, as ls(1) shows them.
        for (special, index, letter) in [(UInt32(0o4000), 3, "s"), (UInt32(0o2000), 6, "s"), (UInt32(0o1000), 9, "t")]
        where node.mode & special != 0 {
            let position = s.index(s.startIndex, offsetBy: index)
            let executable = s[position] == "x"
            s.replaceSubrange(position...position, with: executable ? letter : letter.uppercased())
        }
        return s
    }
}

extension String {
    func leftPad(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
    /// Spaces after the text up to `width`; a longer text is kept whole (Foundation's
    /// `padding(toLength:)` cuts it, which made two owners print alike).
    func rightPad(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
