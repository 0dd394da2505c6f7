import SnapCore

/// What a tar member is.
public enum TarEntryType: Sendable, Equatable {
    case file
    /// A further name of a file earlier in the archive (`linkTarget` names it).
    case hardLink
    case symlink
    case characterDevice
    case blockDevice
    case directory
    case fifo
}

/// One member of a tar archive, with its extended headers (PAX, GNU long names, sparse
/// maps) already applied. Names are raw bytes, exactly as archived.
public struct TarEntry: Sendable, Equatable {
    public var path: [UInt8]
    public var type: TarEntryType
    /// Permission bits with setuid, setgid and sticky.
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var user: [UInt8]
    public var group: [UInt8]
    /// The file's length: for a sparse file the real length, holes included.
    public var size: UInt64
    public var mtime: Timestamp
    public var atime: Timestamp?
    public var ctime: Timestamp?
    /// A symlink's target, or the archived name a hard link refers to.
    public var linkTarget: [UInt8]
    public var deviceMajor: UInt32
    public var deviceMinor: UInt32
    /// Sorted by name, names unique (`SCHILY.xattr.*`, `LIBARCHIVE.xattr.*`).
    public var xattrs: [ExtendedAttribute]
    /// The ACL records (`SCHILY.acl.access`, `.default`) that could not be read: an
    /// unknown user or group name, or text that is no ACL.
    public var unreadableACLs: [String] = []
    /// For a sparse file, its data segments in file order; `nil` otherwise.
    public var sparse: [TarSparseSegment]?

    public init(path: [UInt8], type: TarEntryType) {
        self.path = path; self.type = type
        mode = 0; uid = 0; gid = 0; user = []; group = []; size = 0
        mtime = Timestamp(seconds: 0, nanoseconds: 0); atime = nil; ctime = nil
        linkTarget = []; deviceMajor = 0; deviceMinor = 0; xattrs = []; sparse = nil
    }

    /// The Linux device number (`dev_t`) of `deviceMajor` and `deviceMinor`.
    public var rdev: UInt64 {
        let (major, minor) = (UInt64(deviceMajor), UInt64(deviceMinor))
        return (major & 0xffff_f000) << 32 | (major & 0xfff) << 8 | (minor & 0xffff_ff00) << 12 | (minor & 0xff)
    }
}

/// A stretch of a sparse file that holds data; the rest of the file reads as zeros.
public struct TarSparseSegment: Sendable, Equatable {
    public var offset: UInt64
    public var length: UInt64
    public init(offset: UInt64, length: UInt64) { self.offset = offset; self.length = length }
}
