import SnapCore

/// The kind of a directory entry.
public enum NodeType: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case file = 0
    case directory = 1
    case symlink = 2
    /// A further name of a file already stored earlier in the same snapshot.
    case hardlink = 3
    case fifo = 4
    case characterDevice = 5
    case blockDevice = 6
    case socket = 7

    public var description: String {
        switch self {
        case .file: return "file"
        case .directory: return "dir"
        case .symlink: return "symlink"
        case .hardlink: return "hardlink"
        case .fifo: return "fifo"
        case .characterDevice: return "chardev"
        case .blockDevice: return "blockdev"
        case .socket: return "socket"
        }
    }
}

/// A point in time with nanoseconds, as the file system reports it.
public struct Timestamp: Sendable, Equatable, Comparable, Hashable {
    public var seconds: Int64
    public var nanoseconds: UInt32
    public init(seconds: Int64, nanoseconds: UInt32) { self.seconds = seconds; self.nanoseconds = nanoseconds }
    public static func < (a: Timestamp, b: Timestamp) -> Bool { (a.seconds, a.nanoseconds) < (b.seconds, b.nanoseconds) }
}

/// An extended attribute: raw name and value bytes.
public struct ExtendedAttribute: Sendable, Equatable {
    public var name: [UInt8]
    public var value: [UInt8]
    public init(name: [UInt8], value: [UInt8]) { self.name = name; self.value = value }
}

/// One entry of a directory, with everything needed to restore it.
public struct Node: Sendable, Equatable {
    /// The name as raw bytes: names need not be UTF-8.
    public var name: [UInt8]
    public var type: NodeType
    /// Permission bits with setuid, setgid and sticky (`st_mode & 0o7777`).
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    /// The owner's and group's names when known, so a restore on another host can map them.
    public var user: String
    public var group: String
    public var mtime: Timestamp
    public var ctime: Timestamp
    public var inode: UInt64
    public var device: UInt64
    /// Number of hard links when backed up.
    public var links: UInt64
    /// The device number of a character or block device.
    public var rdev: UInt64
    public var size: UInt64
    /// A symlink's target, or for a hard link the snapshot path of the first name of the file.
    public var linkTarget: [UInt8]
    /// Sorted by name.
    public var xattrs: [ExtendedAttribute]
    /// Content blobs in file order (files and hard links).
    public var content: [BlobID]
    /// The tree blob of a directory.
    public var subtree: BlobID?

    public init(name: [UInt8], type: NodeType, mode: UInt32 = 0, uid: UInt32 = 0, gid: UInt32 = 0,
                user: String = "", group: String = "", mtime: Timestamp = .init(seconds: 0, nanoseconds: 0),
                ctime: Timestamp = .init(seconds: 0, nanoseconds: 0), inode: UInt64 = 0, device: UInt64 = 0,
                links: UInt64 = 1, rdev: UInt64 = 0, size: UInt64 = 0, linkTarget: [UInt8] = [],
                xattrs: [ExtendedAttribute] = [], content: [BlobID] = [], subtree: BlobID? = nil) {
        self.name = name; self.type = type; self.mode = mode; self.uid = uid; self.gid = gid
        self.user = user; self.group = group; self.mtime = mtime; self.ctime = ctime
        self.inode = inode; self.device = device; self.links = links; self.rdev = rdev; self.size = size
        self.linkTarget = linkTarget; self.xattrs = xattrs; self.content = content; self.subtree = subtree
    }

    /// The name for display: UTF-8 when valid, otherwise with invalid bytes escaped as `\xNN`.
    public var displayName: String { PathBytes.display(name) }
}
