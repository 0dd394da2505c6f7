import SnapCore

/// A directory: its entries sorted by raw name bytes. Stored as a tree blob whose ID
/// (HMAC of the encoding) names it, so a snapshot's root tree ID is a Merkle root.
///
/// The encoding is canonical: equal trees have equal bytes (FORMAT.md, "Trees").
public struct Tree: Sendable, Equatable {
    public private(set) var nodes: [Node]

    static let version: UInt64 = 1

    /// Sorts `nodes` by name; names must be unique.
    public init(nodes: [Node]) {
        self.nodes = nodes.sorted { $0.name.lexicographicallyPrecedes($1.name) }
    }

    /// The node with this name, if any.
    public func node(named name: [UInt8]) -> Node? {
        var low = 0, high = nodes.count
        while low < high {
            let mid = (low + high) / 2
            if nodes[mid].name.lexicographicallyPrecedes(name) { low = mid + 1 } else { high = mid }
        }
        return low < nodes.count && nodes[low].name == name ? nodes[low] : nil
    }

    public func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: 64 + nodes.count * 128)
        w.uvarint(Self.version)
        w.uvarint(UInt64(nodes.count))
        for n in nodes {
            w.data(n.name)
            w.u8(n.type.rawValue)
            w.uvarint(UInt64(n.mode))
            w.uvarint(UInt64(n.uid))
            w.uvarint(UInt64(n.gid))
            w.string(n.user)
            w.string(n.group)
            w.svarint(n.mtime.seconds)
            w.uvarint(UInt64(n.mtime.nanoseconds))
            w.svarint(n.ctime.seconds)
            w.uvarint(UInt64(n.ctime.nanoseconds))
            w.uvarint(n.inode)
            w.uvarint(n.device)
            w.uvarint(n.links)
            w.uvarint(n.rdev)
            w.uvarint(n.size)
            w.data(n.linkTarget)
            let xattrs = Self.canonical(n.xattrs)
            w.uvarint(UInt64(xattrs.count))
            for x in xattrs { w.data(x.name); w.data(x.value) }
            w.uvarint(UInt64(n.content.count))
            for id in n.content { w.id(id.raw) }
            if let subtree = n.subtree { w.u8(1); w.id(subtree.raw) } else { w.u8(0) }
        }
        return w.bytes
    }

    /// Extended attributes as the format stores them: sorted by name, each name once (the
    /// first given wins), whatever order the producer gave them in (`listxattr`'s creation
    /// order in a restic tree, a tar header's). The decoder rejects any other order.
    static func canonical(_ xattrs: [ExtendedAttribute]) -> [ExtendedAttribute] {
        let inOrder = zip(xattrs, xattrs.dropFirst()).allSatisfy { $0.name.lexicographicallyPrecedes($1.name) }
        guard !inOrder else { return xattrs }
        var result: [ExtendedAttribute] = []
        let sorted = xattrs.enumerated().sorted { a, b in
            a.element.name == b.element.name ? a.offset < b.offset : a.element.name.lexicographicallyPrecedes(b.element.name)
        }
        for (_, x) in sorted where result.last?.name != x.name { result.append(x) }
        return result
    }

    /// Decodes a tree, rejecting anything a canonical encoder would not have written.
    public static func decode(_ bytes: [UInt8]) throws -> Tree {
        var r = ByteReader(bytes)
        let version = try r.uvarint()
        guard version == Self.version else { throw DecodingFailure("unknown tree version \(version)", at: 0) }
        let count = try r.count(limit: r.remaining / 20)
        var nodes: [Node] = []
        nodes.reserveCapacity(count)
        for _ in 0..<count {
            let start = r.offset
            let name = try r.data()
            guard !name.isEmpty, name != [46], name != [46, 46], !name.contains(0), !name.contains(UInt8(ascii: "/")) else {
                throw DecodingFailure("invalid entry name", at: start)
            }
            if let last = nodes.last, !last.name.lexicographicallyPrecedes(name) {
                throw DecodingFailure("entries not sorted or not unique", at: start)
            }
            guard let type = NodeType(rawValue: try r.u8()) else { throw DecodingFailure("unknown entry type", at: start) }
            var n = Node(name: name, type: type)
            n.mode = UInt32(try r.count(limit: 0o7777))
            n.uid = UInt32(try r.count(limit: Int(UInt32.max)))
            n.gid = UInt32(try r.count(limit: Int(UInt32.max)))
            n.user = try r.string()
            n.group = try r.string()
            n.mtime = Timestamp(seconds: try r.svarint(), nanoseconds: UInt32(try r.count(limit: 999_999_999)))
            n.ctime = Timestamp(seconds: try r.svarint(), nanoseconds: UInt32(try r.count(limit: 999_999_999)))
            n.inode = try r.uvarint()
            n.device = try r.uvarint()
            n.links = try r.uvarint()
            n.rdev = try r.uvarint()
            n.size = try r.uvarint()
            n.linkTarget = try r.data()
            let xattrCount = try r.count(limit: r.remaining / 2)
            for _ in 0..<xattrCount {
                let x = ExtendedAttribute(name: try r.data(), value: try r.data())
                if let last = n.xattrs.last, !last.name.lexicographicallyPrecedes(x.name) {
                    throw DecodingFailure("extended attributes not sorted or not unique", at: start)
                }
                n.xattrs.append(x)
            }
            let contentCount = try r.count(limit: r.remaining / 32)
            n.content.reserveCapacity(contentCount)
            for _ in 0..<contentCount { n.content.append(BlobID(raw: try r.id())) }
            switch try r.u8() {
            case 0: break
            case 1: n.subtree = BlobID(raw: try r.id())
            default: throw DecodingFailure("invalid subtree flag", at: r.offset - 1)
            }
            guard n.content.isEmpty || type == .file || type == .hardlink else {
                throw DecodingFailure("content present on an entry that is not a file", at: start)
            }
            guard (type == .directory) == (n.subtree != nil) else {
                throw DecodingFailure("subtree present exactly for directories", at: start)
            }
            nodes.append(n)
        }
        guard r.isAtEnd else { throw DecodingFailure("\(r.remaining) trailing bytes", at: r.offset) }
        return Tree(sortedNodes: nodes)
    }

    private init(sortedNodes: [Node]) { nodes = sortedNodes }
}
