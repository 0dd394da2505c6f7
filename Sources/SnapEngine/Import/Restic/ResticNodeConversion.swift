import SnapCore
import SnapRestic

extension ResticNode {
    /// snap's node type for this entry.
    var snapType: NodeType {
        switch kind {
        case .file: return .file
        case .dir: return .directory
        case .symlink: return .symlink
        case .dev: return .blockDevice
        case .chardev: return .characterDevice
        case .fifo: return .fifo
        case .socket: return .socket
        }
    }

    /// The metadata as snap keeps it: everything restic records that snap's trees hold
    /// (FORMAT.md, "Trees"); the access time goes to the import entry separately.
    var snapNode: Node {
        Node(name: name, type: snapType, mode: permissions, uid: uid, gid: gid, user: user, group: group,
             mtime: Self.timestamp(mtime), ctime: Self.timestamp(ctime ?? mtime), inode: inode, device: deviceID,
             links: max(links, 1), rdev: device, size: size, linkTarget: kind == .symlink ? linkTarget : [],
             xattrs: extendedAttributes.map { SnapEngine.ExtendedAttribute(name: Array($0.name.utf8), value: $0.value) })
    }

    /// The access time, when restic recorded one (Go's zero time means none).
    var snapAtime: Timestamp? {
        guard let atime, atime.seconds != Self.goZeroTime else { return nil }
        return Self.timestamp(atime)
    }

    /// Go's zero `time.Time`, 0001-01-01T00:00:00Z, in seconds since 1970.
    static let goZeroTime: Int64 = -62_135_596_800

    static func timestamp(_ time: ResticTime?) -> Timestamp {
        guard let time else { return Timestamp(seconds: 0, nanoseconds: 0) }
        return Timestamp(seconds: time.seconds, nanoseconds: UInt32(time.nanoseconds))
    }
}
