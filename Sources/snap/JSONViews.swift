import Foundation
import SnapCore
import SnapEngine
import SnapRepository

/// A tree entry as one compact JSON object (`ls --json`, `find --json`, `cat tree`). Names
/// that are not valid UTF-8 are shown escaped in `name` and exactly, base64-encoded, in
/// `name_bytes`. Written with `JSONObjectWriter` (a million entries take about a second,
/// not the ten `JSONEncoder` takes); the keys below are in byte order, as `.sortedKeys` has them.
enum NodeJSON {
    /// The object's text. `path` is left out when `nil`; `marked` adds restic's
    /// `message_type` and `struct_type` (`"node"`), as `ls --json` has them.
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
        o.field("type", n.type.description)
        o.field("uid", UInt64(n.uid))
        o.field("user", n.user)
        o.field("xattrs", object: n.xattrs.isEmpty ? nil : Dictionary(
            n.xattrs.map { (PathBytes.display($0.name), Data($0.value).base64EncodedString()) }, uniquingKeysWith: { a, _ in a }))
        return o.finished()
    }
}

/// A node's type and mode as Go's `os.FileMode`, which restic's JSON gives: the permission
/// bits, with the type and the setuid, setgid and sticky bits as flags of their own
/// (`mode`), and as `ls -l`-like text (`permissions`, Go's `FileMode.String`). So a script
/// that reads `mode` from `restic ls --json` reads snap's the same.
struct GoFileMode {
    let value: UInt32

    private static let directory: UInt32 = 1 << 31, symlink: UInt32 = 1 << 27, device: UInt32 = 1 << 26
    private static let namedPipe: UInt32 = 1 << 25, socket: UInt32 = 1 << 24, setuid: UInt32 = 1 << 23
    private static let setgid: UInt32 = 1 << 22, characterDevice: UInt32 = 1 << 21, sticky: UInt32 = 1 << 20

    init(_ node: Node) {
        var v = node.mode & 0o777
        if node.mode & 0o4000 != 0 { v |= Self.setuid }
        if node.mode & 0o2000 != 0 { v |= Self.setgid }
        if node.mode & 0o1000 != 0 { v |= Self.sticky }
        switch node.type {
        case .directory: v |= Self.directory
        case .symlink: v |= Self.symlink
        case .fifo: v |= Self.namedPipe
        case .socket: v |= Self.socket
        case .characterDevice: v |= Self.device | Self.characterDevice
        case .blockDevice: v |= Self.device
        case .file, .hardlink: break
        }
        value = v
    }

    /// Go's letters for the flags, highest bit first (`dalTLDpSugct?` for bits 31 to 19),
    /// or `-` when none is set, then `rwxrwxrwx` with `-` for each bit not set.
    var text: String {
        var s = ""
        for (i, letter) in "dalTLDpSugct?".enumerated() where value & (1 << UInt32(31 - i)) != 0 { s.append(letter) }
        if s.isEmpty { s = "-" }
        for (i, letter) in "rwxrwxrwx".enumerated() { s.append(value & (1 << UInt32(8 - i)) != 0 ? letter : "-") }
        return s
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
