import SnapCore
import SnapEngine

/// Nodes for tree tests: one of every type, each with every field set to a non-default value.
enum TreeSamples {
    static func id(_ n: UInt64) -> BlobID { BlobID(raw: RawID(w0: n, w1: ~n, w2: n &* 31, w3: 0xfeed_0000 | n)) }

    static func node(_ name: [UInt8], _ type: NodeType, seed: UInt64) -> Node {
        Node(name: name, type: type, mode: 0o4755, uid: 1000 + UInt32(seed), gid: UInt32.max, user: "üser\(seed)", group: "grp",
             mtime: Timestamp(seconds: -1_000_000 - Int64(seed), nanoseconds: 999_999_999),
             ctime: Timestamp(seconds: Int64.max - Int64(seed), nanoseconds: 1),
             inode: UInt64.max - seed, device: 0x1234_5678 + seed, links: 3, rdev: type == .characterDevice || type == .blockDevice ? 0x0103 : 7,
             size: 1 << 40 | seed, linkTarget: [0x2f, 0xff, 0x00, 0x80, UInt8(seed)],
             xattrs: [ExtendedAttribute(name: Array("security.selinux".utf8), value: [0, 1, 2]),
                      ExtendedAttribute(name: Array("user.\u{e9}".utf8), value: [])],
             content: type == .file || type == .hardlink ? [id(seed), id(seed + 100), id(seed)] : [],
             subtree: type == .directory ? id(seed + 1000) : nil)
    }

    /// One node of every type; names include bytes that are not UTF-8.
    static var everyType: [Node] {
        NodeType.allCases.enumerated().map { i, type in
            node([0x6e, 0xff - UInt8(i), 0xc3, UInt8(0x41 + i)], type, seed: UInt64(i))
        }
    }

    /// A tree's raw encoding with the node bodies in exactly the given order, duplicates and bad names included
    /// (`Tree.init` would sort them). The header is the version (1) and the count, one byte each.
    static func rawEncoding(_ nodes: [Node]) -> [UInt8] {
        precondition(nodes.count < 128)
        return [1, UInt8(nodes.count)] + nodes.flatMap { Tree(nodes: [$0]).encoded().dropFirst(2) }
    }
}
