import SnapCore
import SnapRepository

/// A snapshot's tree in ncdu's JSON export format (version 1.2, with the extended fields),
/// which `ncdu -f FILE` browses: restic 0.17's `ls --ncdu`, to see what takes the space in a
/// backup without restoring it.
///
/// The format nests each folder as an array whose first element describes it, followed by
/// its entries (objects for files, arrays for folders). Written as the walk goes, one entry
/// a line, so a tree of any size takes no more memory than its depth. Sizes are the files'
/// sizes (`asize`; `dsize` the same, as a snapshot has no disk blocks); a hard-linked file
/// carries ncdu's `hlnkc` with its device and inode, so that ncdu counts it once.
///
/// Names are written as their bytes (`JSONObjectWriter.field(_:rawBytes:)`): ncdu reads names
/// as bytes, and a name that is not UTF-8 is shown as it was on disk.
public struct NcduExport {
    private let walker: TreeWalker

    public init(repository: Repository) { walker = TreeWalker(repository: repository) }

    /// Writes the export of the tree `root`, whose folder is named `rootName` (the path it
    /// stands for, `/` for a whole snapshot), a piece at a time to `write`.
    /// - Parameter time: seconds since 1970, for the metadata's `timestamp`.
    public func write(root: BlobID, rootName: [UInt8], time: Int64, version: String,
                      to write: ([UInt8]) throws -> Void) throws {
        var metadata = JSONObjectWriter(capacity: 96)
        metadata.field("progname", "snap")
        metadata.field("progver", version)
        metadata.field("timestamp", time)
        try write(Array("[1,2,".utf8) + metadata.finished() + Array(",\n[".utf8) + Self.rootInfo(rootName))
        // Folders entered and not yet closed, by path: an entry closes those it is not below.
        var open: [[UInt8]] = [[]]
        try walker.walk(root) { path, node in
            while let last = open.last, !Self.isBelow(path, last) {
                open.removeLast()
                try write(Array("]".utf8))
            }
            if node.type == .directory {
                try write(Array(",\n[".utf8) + Self.info(node))
                open.append(path)
            } else {
                try write(Array(",\n".utf8) + Self.info(node))
            }
        }
        try write(Array(String(repeating: "]", count: open.count).utf8) + Array("]\n".utf8))
    }

    /// Whether `path` lies inside the folder `folder` (`[]`: the export's root).
    static func isBelow(_ path: [UInt8], _ folder: [UInt8]) -> Bool {
        folder.isEmpty || (path.count > folder.count && path.starts(with: folder) && path[folder.count] == PathBytes.slash)
    }

    private static func rootInfo(_ name: [UInt8]) -> [UInt8] {
        var object = JSONObjectWriter(capacity: 96)
        object.field("name", rawBytes: name)
        object.field("asize", UInt64(0))
        object.field("dsize", UInt64(0))
        object.field("mode", UInt64(0o040000 | 0o755))
        return object.finished()
    }

    /// One entry's info object, with ncdu's extended fields.
    static func info(_ node: Node) -> [UInt8] {
        let isFile = node.type == .file || node.type == .hardlink
        let size = isFile ? node.size : 0
        var object = JSONObjectWriter(capacity: 192)
        object.field("name", rawBytes: node.name)
        object.field("asize", size)
        object.field("dsize", size)
        object.field("dev", node.device)
        object.field("ino", node.inode)
        if isFile && node.links > 1 {
            object.field("hlnkc", true)
            object.field("nlink", node.links)
        }
        if !isFile && node.type != .directory { object.field("notreg", true) }
        object.field("uid", UInt64(node.uid))
        object.field("gid", UInt64(node.gid))
        object.field("mode", UInt64(typeBits(node.type) | node.mode))
        object.field("mtime", UInt64(max(0, node.mtime.seconds)))
        return object.finished()
    }

    /// The `st_mode` file-type bits of a node type.
    private static func typeBits(_ type: NodeType) -> UInt32 {
        switch type {
        case .file, .hardlink: return 0o100000
        case .directory: return 0o040000
        case .symlink: return 0o120000
        case .fifo: return 0o010000
        case .characterDevice: return 0o020000
        case .blockDevice: return 0o060000
        case .socket: return 0o140000
        }
    }
}
