import Foundation
import SnapCore
import SnapEngine
import SnapRepository

/// A tree entry as JSON. Names that are not valid UTF-8 are shown escaped in `name` and
/// exactly, base64-encoded, in `name_bytes`.
struct NodeJSON: Encodable {
    let path: String?
    let name: String
    let nameBytes: String?
    let type: String
    let mode: String
    let uid: UInt32
    let gid: UInt32
    let user: String
    let group: String
    let mtime: String
    let ctime: String
    let inode: UInt64
    let device: UInt64
    let links: UInt64
    let rdev: UInt64?
    let size: UInt64
    let linkTarget: String?
    let xattrs: [String: String]?
    let content: [String]?
    let subtree: String?

    init(_ n: Node, path: [UInt8]?) {
        self.path = path.map(PathBytes.display)
        name = n.displayName
        nameBytes = String(validating: n.name, as: UTF8.self) == nil ? Data(n.name).base64EncodedString() : nil
        type = n.type.description
        mode = "0" + String(n.mode, radix: 8)
        uid = n.uid; gid = n.gid; user = n.user; group = n.group
        mtime = RFC3339.format(n.mtime, utcOffset: 0)
        ctime = RFC3339.format(n.ctime, utcOffset: 0)
        inode = n.inode; device = n.device; links = n.links
        rdev = n.rdev == 0 ? nil : n.rdev
        size = n.size
        linkTarget = n.linkTarget.isEmpty ? nil : PathBytes.display(n.linkTarget)
        xattrs = n.xattrs.isEmpty ? nil : Dictionary(n.xattrs.map { (PathBytes.display($0.name), Data($0.value).base64EncodedString()) },
                                                     uniquingKeysWith: { a, _ in a })
        content = n.content.isEmpty ? nil : n.content.map(\.hex)
        subtree = n.subtree?.hex
    }

    enum CodingKeys: String, CodingKey {
        case path, name, nameBytes = "name_bytes", type, mode, uid, gid, user, group, mtime, ctime, inode, device, links, rdev, size
        case linkTarget = "link_target", xattrs, content, subtree
    }
}

/// An index file, or one pack's header, as JSON.
struct IndexJSON: Encodable {
    struct Blob: Encodable {
        let type: String, id: String, offset: UInt32, length: UInt32, uncompressedLength: UInt32, compressed: Bool
        enum CodingKeys: String, CodingKey { case type, id, offset, length, uncompressedLength = "uncompressed_length", compressed }
    }
    struct Pack: Encodable {
        let id: String, size: Int, blobs: [Blob]
        init(_ p: IndexedPack) {
            id = p.id.hex; size = p.size
            blobs = p.entries.map { Blob(type: $0.type.description, id: $0.id.hex, offset: $0.offset, length: $0.length,
                                         uncompressedLength: $0.rawLength, compressed: $0.isCompressed) }
        }
    }
    let supersedes: [String]
    let packs: [Pack]
    init(_ f: IndexFile) { supersedes = f.supersedes.map(\.hex); packs = f.packs.map(Pack.init) }
}
