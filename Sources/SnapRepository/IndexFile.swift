import SnapCore
import SnapStorage

/// One pack as an index file describes it.
public struct IndexedPack: Sendable, Equatable {
    public var id: PackID
    /// The pack's 24-byte salt, from which its subkey is derived.
    public var salt: [UInt8]
    /// The pack file's size in bytes.
    public var size: Int
    public var entries: [PackEntry]

    public init(id: PackID, salt: [UInt8], size: Int, entries: [PackEntry]) {
        self.id = id; self.salt = salt; self.size = size; self.entries = entries
    }
}

/// The plaintext of an index file (`index/ID`, encrypted; FORMAT.md, "Index files").
public struct IndexFile: Sendable, Equatable {
    static let version: UInt8 = 1

    /// Index files this one replaces: readers ignore them (prune writes such files).
    public var supersedes: [IndexID]
    public var packs: [IndexedPack]

    public init(supersedes: [IndexID] = [], packs: [IndexedPack]) { self.supersedes = supersedes; self.packs = packs }

    public func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: packs.reduce(64) { $0 + 80 + $1.entries.count * 45 })
        w.u8(Self.version)
        w.uvarint(UInt64(supersedes.count))
        for id in supersedes { w.id(id.raw) }
        w.uvarint(UInt64(packs.count))
        for p in packs {
            w.id(p.id.raw)
            w.raw(p.salt)
            w.uvarint(UInt64(p.size))
            w.uvarint(UInt64(p.entries.count))
            for e in p.entries { e.encode(into: &w) }
        }
        return w.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws -> IndexFile {
        var r = ByteReader(bytes)
        let version = try r.u8()
        guard version == Self.version else { throw DecodingFailure("unknown index version \(version)", at: 0) }
        var supersedes: [IndexID] = []
        for _ in 0..<(try r.count(limit: r.remaining / 32)) { supersedes.append(IndexID(raw: try r.id())) }
        var packs: [IndexedPack] = []
        for _ in 0..<(try r.count(limit: r.remaining / 58)) {
            let id = PackID(raw: try r.id())
            let salt = try r.raw(PackFormat.saltLength)
            let size = try r.count(limit: PackFormat.maxPackSize)
            let count = try r.count(limit: r.remaining / 36)
            var entries: [PackEntry] = []
            entries.reserveCapacity(count)  // exactly: check keeps every pack's entries
            for _ in 0..<count { entries.append(try PackEntry.decode(from: &r)) }
            packs.append(IndexedPack(id: id, salt: salt, size: size, entries: entries))
        }
        guard r.isAtEnd else { throw DecodingFailure("\(r.remaining) trailing bytes", at: r.offset) }
        return IndexFile(supersedes: supersedes, packs: packs)
    }
}
