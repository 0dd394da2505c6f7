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
/// Names are written as their bytes: ncdu reads names as bytes, and a name that is not UTF-8
/// is shown as it was on disk. Control characters, `"` and `\` are escaped.
public struct NcduExport {
    private let walker: TreeWalker

    public init(repository: Repository) { walker = TreeWalker(repository: repository) }

    /// Writes the export of the tree `root`, whose folder is named `rootName` (the path it
    /// stands for, `/` for a whole snapshot), a piece at a time to `write`.
    /// - Parameter time: seconds since 1970, for the metadata's `timestamp`.
    public func write(root: BlobID, rootName: [UInt8], time: Int64, version: String,
                      to write: ([UInt8]) throws -> Void) throws {
        try write(Array("[1,2,{\"progname\":\"snap\",\"progver\":".utf8) + Self.string(Array(version.utf8))
                  + Array(",\"timestamp\":\(time)},\n[".utf8) + Self.rootInfo(rootName))
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
        Array("{\"name\":".utf8) + string(name) + Array(",\"asize\":0,\"dsize\":0,\"mode\":\(0o040000 | 0o755)}".utf8)
    }

    /// One entry's info object, with ncdu's extended fields.
    static func info(_ node: Node) -> [UInt8] {
        let size = node.type == .file || node.type == .hardlink ? node.size : 0
        var text = ",\"asize\":\(size),\"dsize\":\(size),\"dev\":\(node.device),\"ino\":\(node.inode)"
        if node.type == .file || node.type == .hardlink, node.links > 1 { text += ",\"hlnkc\":true,\"nlink\":\(node.links)" }
        if node.type != .file && node.type != .directory && node.type != .hardlink { text += ",\"notreg\":true" }
        text += ",\"uid\":\(node.uid),\"gid\":\(node.gid),\"mode\":\(typeBits(node.type) | node.mode),\"mtime\":\(max(0, node.mtime.seconds))}"
        return Array("{\"name\":".utf8) + string(node.name) + Array(text.utf8)
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

    /// A JSON string of raw bytes: `"`, `\` and control characters escaped, every other byte
    /// as it is.
    static func string(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "\"")]
        out.reserveCapacity(bytes.count + 2)
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), byte]
            case 0x0A: out += Array("\\n".utf8)
            case 0x09: out += Array("\\t".utf8)
            case 0..<0x20, 0x7F: out += Array("\\u00".utf8) + Array(Hex.encode([byte]).utf8)
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
        return out
    }
}
