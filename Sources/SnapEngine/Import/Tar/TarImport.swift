import SnapCore

/// Imports a tar stream as one snapshot: every member becomes an entry below the
/// snapshot's root, with its metadata, xattrs and content (sparse holes as zeros).
///
/// Names are taken as `tar` extracts them: leading `/` and `./` dropped, `.` components
/// ignored; a member whose name holds `..` is left out with a warning (as GNU tar does),
/// and so is one that names the root itself (the root tree carries no metadata).
public enum TarImport {
    /// Reads every member of `reader` into `importer`; returns how many members it read.
    ///
    /// - Throws: `TarError` for a stream that is not a well-formed tar archive, and what
    ///   the importer throws; the import is then abandoned.
    @discardableResult
    public static func read(_ reader: TarReader, into importer: SnapshotImporter) throws -> Int {
        var members = 0
        while let member = try reader.next() {
            members += 1
            let display = [PathBytes.slash] + member.path.drop { $0 == PathBytes.slash }
            guard let path = components(member.path) else {
                importer.warn(path: display, "the name holds '..': left out, as tar leaves it out")
                continue
            }
            if path.isEmpty {
                if member.type != .directory { importer.warn(path: display, "a \(member.type) member names the archive's root: left out") }
                continue
            }
            for record in member.unreadableACLs {
                importer.warn(path: display, "\(record) names a user or group unknown here, or is no ACL: left out")
            }
            var node = Node(name: path[path.count - 1], type: .file, mode: member.mode, uid: member.uid, gid: member.gid,
                            user: String(decoding: member.user, as: UTF8.self), group: String(decoding: member.group, as: UTF8.self),
                            mtime: member.mtime, ctime: member.ctime ?? member.mtime, xattrs: member.xattrs)
            var content: ImportContent?
            switch member.type {
            case .file:
                content = .stream { try reader.read(into: $0) }
            case .directory: node.type = .directory
            case .symlink:
                node.type = .symlink
                node.linkTarget = member.linkTarget
            case .hardLink:
                guard let target = components(member.linkTarget), !target.isEmpty else {
                    importer.warn(path: display, "a hard link to '\(PathBytes.display(member.linkTarget))', which cannot be in this snapshot: left out")
                    continue
                }
                node.type = .hardlink
                node.linkTarget = Array(target.joined(separator: [PathBytes.slash]))
            case .characterDevice, .blockDevice:
                node.type = member.type == .characterDevice ? .characterDevice : .blockDevice
                node.rdev = member.rdev
            case .fifo: node.type = .fifo
            }
            try importer.add(ImportEntry(path: path, node: node, atime: member.atime, content: content))
        }
        return members
    }

    /// A member name's components below the root, `nil` when one is `..`.
    static func components(_ name: [UInt8]) -> [[UInt8]]? {
        let parts = PathBytes.components(name).filter { $0 != [UInt8(ascii: ".")] }
        return parts.contains([UInt8(ascii: "."), UInt8(ascii: ".")]) ? nil : parts
    }
}
