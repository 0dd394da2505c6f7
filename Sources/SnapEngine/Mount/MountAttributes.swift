import SnapCore

/// What `stat` shows for one entry of a mounted repository: the node's own metadata for
/// entries inside a snapshot, made-up but stable values for the folders around them.
public struct MountAttributes: Sendable, Equatable {
    /// The entry's kind; a snapshot's hard link shows as the regular file it is.
    public var type: NodeType
    /// Permission bits with setuid, setgid and sticky.
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var size: UInt64
    /// Snapshots store no access time: it shows the modification time.
    public var mtime: Timestamp
    public var ctime: Timestamp
    /// The link count recorded at backup (2 for made-up folders).
    public var links: UInt64
    public var rdev: UInt64
    /// Stable for a path while the mount runs; names of one hard-linked file share it.
    public var inode: UInt64

    public init(type: NodeType, mode: UInt32, uid: UInt32 = 0, gid: UInt32 = 0, size: UInt64 = 0,
                mtime: Timestamp, ctime: Timestamp, links: UInt64 = 1, rdev: UInt64 = 0, inode: UInt64) {
        self.type = type; self.mode = mode; self.uid = uid; self.gid = gid; self.size = size
        self.mtime = mtime; self.ctime = ctime; self.links = links; self.rdev = rdev; self.inode = inode
    }
}

/// One name in a folder listing, with its attributes (so `ls -l` needs no lookup per name).
public struct MountDirectoryEntry: Sendable, Equatable {
    public var name: [UInt8]
    public var attributes: MountAttributes
}

/// Why a request on a mounted repository fails; the FUSE adapter turns each into an errno.
public enum MountError: Error, Equatable, CustomStringConvertible {
    /// No such entry (ENOENT).
    case notFound(path: String)
    /// A folder was expected (ENOTDIR).
    case notDirectory(path: String)
    /// The request needs a file, the entry is a folder (EISDIR).
    case isDirectory(path: String)
    /// The request does not apply to this kind of entry, as readlink on a file (EINVAL).
    case wrongType(path: String)
    /// No such extended attribute (ENODATA).
    case noAttribute(path: String)
    /// The repository could not give the right bytes: a damaged or missing blob or tree (EIO).
    case damaged(path: String, reason: String)
    /// A file handle that is not open (EBADF).
    case badHandle

    public var description: String {
        switch self {
        case let .notFound(path): return "\(path): no such entry"
        case let .notDirectory(path): return "\(path): not a folder"
        case let .isDirectory(path): return "\(path): is a folder"
        case let .wrongType(path): return "\(path): not applicable to this kind of entry"
        case let .noAttribute(path): return "\(path): no such extended attribute"
        case let .damaged(path, reason): return "\(path): \(reason)"
        case .badHandle: return "file handle is not open"
        }
    }
}

/// FNV-1a, 64 bits: inode numbers from names, stable from one mount to the next.
struct InodeHash {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        for b in bytes { value = (value ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
    }

    mutating func add(_ n: UInt64) { withUnsafeBytes(of: n.littleEndian) { add($0) } }

    /// The hash, never 0 or 1 (the kernel's and FUSE's root).
    var inode: UInt64 { value < 2 ? value + 2 : value }
}
