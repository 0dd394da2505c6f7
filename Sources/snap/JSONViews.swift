import Foundation
import SnapCore
import SnapEngine
import SnapRepository
import SnapRestic

/// A tree entry as one compact JSON object (`ls --json`, `find --json`, `cat tree`). Names
/// that are not valid UTF-8 are shown escaped in `name` and exactly, base64-encoded, in
/// `name_bytes`. Written with `JSONObjectWriter` (a million entries take about a second,
/// not the ten `JSONEncoder` takes); the keys below are in byte order, as `.sortedKeys` has them.
enum NodeJSON {
    /// restic's name for a node type (its `Node.Type`), so that scripts written for restic's
    /// JSON find every file: a further name of a hard-linked file is a `file` (its
    /// `link_target` names the first name), a block device a `dev`.
    static func resticType(_ type: NodeType) -> String {
        switch type {
        case .hardlink: return "file"
        case .blockDevice: return "dev"
        default: return type.description
        }
    }

    /// The object's text. `path` is left out when `nil`; `marked` adds restic's
    /// `message_type` and `struct_type` (`"node"`), as `ls --json` has them. The type is
    /// restic's name for it (`resticType`).
    static func text(_ n: Node, path: [UInt8]?, marked: Bool = false) -> [UInt8] {
        var o = JSONObjectWriter()
        o.field("content", strings: n.content.isEmpty ? nil : n.content.map { $0.hex })
        o.field("ctime", RFC3339.format(n.ctime, utcOffset: 0))
        o.field("device_id", n.device)
        o.field("gid", UInt64(n.gid))
        o.field("group", n.group)
        o.field("inode", n.inode)
        o.field("link_target", n.linkTarget.isEmpty ? nil : PathBytes.jsonText(n.linkTarget))
        o.field("links", n.links)
        if marked { o.field("message_type", "node") }
        let mode = GoFileMode(n)
        o.field("mode", UInt64(mode.value))
        o.field("mtime", RFC3339.format(n.mtime, utcOffset: 0))
        o.field("name", PathBytes.jsonText(n.name))
        o.field("name_bytes", String(validating: n.name, as: UTF8.self) == nil ? Data(n.name).base64EncodedString() : nil)
        o.field("path", path.map(PathBytes.jsonText))
        o.field("permissions", mode.text)
        o.field("rdev", n.rdev == 0 ? nil : n.rdev)
        o.field("size", n.size)
        if marked { o.field("struct_type", "node") }
        o.field("subtree", n.subtree?.hex)
        o.field("type", resticType(n.type))
        o.field("uid", UInt64(n.uid))
        o.field("user", n.user)
        o.field("xattrs", object: n.xattrs.isEmpty ? nil : Dictionary(
            n.xattrs.map { (PathBytes.display($0.name), Data($0.value).base64EncodedString()) }, uniquingKeysWith: { a, _ in a }))
        return o.finished()
    }
}

extension GoFileMode {
    /// A node's mode as restic's JSON gives it (`mode`, and its text as `permissions`), so
    /// that a script reading `mode` from `restic ls --json` reads snap's the same.
    init(_ node: Node) {
        let type: UInt32
        switch node.type {
        case .directory: type = Self.directory
        case .symlink: type = Self.symlink
        case .fifo: type = Self.namedPipe
        case .socket: type = Self.socket
        case .characterDevice: type = Self.device | Self.characterDevice
        case .blockDevice: type = Self.device
        case .file, .hardlink: type = 0
        }
        self.init(permissions: node.mode, typeFlags: type)
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
