import SnapCore
import SnapRepository

/// Why a dump cannot start.
public enum DumpError: Error, CustomStringConvertible {
    case notFound(path: String)
    case notDumpable(path: String, type: String)

    public var description: String {
        switch self {
        case let .notFound(path): return "\(path) is not in the snapshot"
        case let .notDumpable(path, type): return "\(path) is a \(type): only files and folders can be dumped"
        }
    }
}

/// Gets data out of a snapshot without restoring (`snap dump`): a file's content as it is,
/// a folder (or the whole snapshot) as a pax tar stream. Memory stays constant: one blob at
/// a time is loaded and handed on.
public struct SnapshotDump {
    private let repository: Repository
    private let walker: TreeWalker
    private let decoder: BlobDecoder?

    public init(repository: Repository) {
        self.repository = repository
        walker = TreeWalker(repository: repository)
        decoder = try? BlobDecoder(keys: repository.keys)
    }

    /// The node at `path` in the tree `root` (`/` is the root folder itself: `nil`).
    public func node(at path: [UInt8], in root: BlobID) throws -> Node? {
        let components = PathBytes.components(path)
        guard !components.isEmpty else { return nil }
        var tree = try walker.tree(root)
        for (i, name) in components.enumerated() {
            guard let node = tree.node(named: name) else { throw DumpError.notFound(path: PathBytes.display(path)) }
            if i == components.count - 1 { return node }
            guard let subtree = node.subtree else { throw DumpError.notFound(path: PathBytes.display(path)) }
            tree = try walker.tree(subtree)
        }
        return nil
    }

    /// Writes the file at `path` as it is, or the folder at `path` as a tar stream; returns
    /// whether it was a tar stream.
    @discardableResult
    public func dump(_ path: [UInt8], in root: BlobID, output: @escaping ([UInt8]) throws -> Void) throws -> Bool {
        let node = try node(at: path, in: root)
        switch node?.type {
        case .file?, .hardlink?:
            for id in node?.content ?? [] { try output(try repository.loadBlob(id, decoder: decoder)) }
            return false
        case .directory?, nil:
            let tar = TarWriter(output: output)
            var written: Set<[UInt8]> = []
            if let node { try entry(node, path: path, tar: tar, written: &written) }
            try walker.walk(root, under: path.count <= 1 ? [] : path) { entryPath, entryNode in
                guard entryPath != path else { return }  // the folder itself, written above
                try entry(entryNode, path: entryPath, tar: tar, written: &written)
            }
            try tar.finish()
            return true
        case let other?:
            throw DumpError.notDumpable(path: PathBytes.display(path), type: other.description)
        }
    }

    /// One entry, named as `snap restore` would place it under its target (no leading `/`).
    private func entry(_ node: Node, path: [UInt8], tar: TarWriter, written: inout Set<[UInt8]>) throws {
        let name = Array(path.drop { $0 == PathBytes.slash })
        let type: TarWriter.EntryType
        var link: [UInt8] = []
        switch node.type {
        case .file: type = .file
        case .directory: type = .directory
        case .symlink: type = .symlink; link = node.linkTarget
        case .hardlink:
            // A link to the first name if the archive holds it; its content otherwise.
            let first = Array(node.linkTarget.drop { $0 == PathBytes.slash })
            if written.contains(first) { type = .hardLink; link = first } else { type = .file }
        case .fifo: type = .fifo
        case .characterDevice: type = .characterDevice
        case .blockDevice: type = .blockDevice
        case .socket: return  // tar has no sockets; restore does not make them either without a listener
        }
        var e = TarWriter.Entry(path: type == .directory ? name + [PathBytes.slash] : name, type: type, mode: node.mode,
                                uid: node.uid, gid: node.gid, user: node.user, group: node.group,
                                size: type == .file ? node.size : 0,
                                mtimeSeconds: node.mtime.seconds, mtimeNanoseconds: node.mtime.nanoseconds)
        e.linkTarget = link
        e.xattrs = node.xattrs.map { ($0.name, $0.value) }
        if type == .characterDevice || type == .blockDevice {
            // glibc's encoding of dev_t (gnu_dev_major, gnu_dev_minor).
            e.deviceMajor = UInt32(truncatingIfNeeded: ((node.rdev >> 8) & 0xfff) | ((node.rdev >> 32) & ~UInt64(0xfff)))
            e.deviceMinor = UInt32(truncatingIfNeeded: (node.rdev & 0xff) | ((node.rdev >> 12) & ~UInt64(0xff)))
        }
        try tar.begin(e)
        if type == .file {
            var size: UInt64 = 0
            for id in node.content {
                let bytes = try repository.loadBlob(id, decoder: decoder)
                size += UInt64(bytes.count)
                try tar.output(bytes)
            }
            guard size == node.size else {
                throw EngineError.treeDamaged(id: PathBytes.display(path), reason: "its content is \(size) bytes, its size \(node.size)")
            }
            try tar.finishContent(size: size)
            written.insert(name)
        }
    }
}
