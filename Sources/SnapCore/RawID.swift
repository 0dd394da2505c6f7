/// Thirty-two bytes naming something: a SHA-256 digest or an HMAC-SHA256 tag.
///
/// Stored as four big-endian words so that comparison, hashing and sorting are cheap and
/// sort in the same order as the bytes.
public struct RawID: Hashable, Comparable, Sendable, BitwiseCopyable {
    public var w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    /// The number of bytes in an ID.
    public static let byteCount = 32

    public init(w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64) {
        self.w0 = w0; self.w1 = w1; self.w2 = w2; self.w3 = w3
    }

    /// Builds an ID from exactly 32 bytes; `nil` for any other length.
    public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        guard bytes.count == Self.byteCount else { return nil }
        var w: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        var i = 0
        for b in bytes {
            switch i >> 3 {
            case 0: w.0 = w.0 << 8 | UInt64(b)
            case 1: w.1 = w.1 << 8 | UInt64(b)
            case 2: w.2 = w.2 << 8 | UInt64(b)
            default: w.3 = w.3 << 8 | UInt64(b)
            }
            i += 1
        }
        self.init(w0: w.0, w1: w.1, w2: w.2, w3: w.3)
    }

    /// Builds an ID from the first 32 bytes of `digest`, which must hold at least 32.
    public init(digest: UnsafeRawBufferPointer) {
        precondition(digest.count >= Self.byteCount, "an ID needs 32 bytes")
        func word(_ i: Int) -> UInt64 { UInt64(bigEndian: digest.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)) }
        self.init(w0: word(0), w1: word(1), w2: word(2), w3: word(3))
    }

    /// Parses 64 hexadecimal digits; `nil` for anything else.
    public init?(hex: String) {
        guard let bytes = Hex.decode(hex), let id = RawID(bytes: bytes) else { return nil }
        self = id
    }

    /// The 32 bytes, most significant first.
    public var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(32)
        for w in [w0, w1, w2, w3] {
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: w >> UInt64(shift))) }
        }
        return out
    }

    /// Lower-case hexadecimal, 64 characters.
    public var hex: String { Hex.encode(bytes) }

    public static func < (a: RawID, b: RawID) -> Bool {
        (a.w0, a.w1, a.w2, a.w3) < (b.w0, b.w1, b.w2, b.w3)
    }
}

/// A typed 32-byte identifier. Each kind of object has its own type so that a pack ID can
/// never be passed where a blob ID is expected.
public protocol TypedID: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    var raw: RawID { get }
    init(raw: RawID)
}

extension TypedID {
    public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        guard let raw = RawID(bytes: bytes) else { return nil }
        self.init(raw: raw)
    }
    public init?(hex: String) {
        guard let raw = RawID(hex: hex) else { return nil }
        self.init(raw: raw)
    }
    public var hex: String { raw.hex }
    /// The first 8 hex digits, as shown in tables.
    public var short: String { String(raw.hex.prefix(8)) }
    public var description: String { raw.hex }
    public static func < (a: Self, b: Self) -> Bool { a.raw < b.raw }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let raw = RawID(hex: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a 64-digit hex ID: \(text)"))
        }
        self.init(raw: raw)
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(raw.hex)
    }
}

/// Names a blob: HMAC-SHA256 of its plaintext under the repository's ID key.
public struct BlobID: TypedID { public let raw: RawID; public init(raw: RawID) { self.raw = raw } }
/// Names a pack file: SHA-256 of its bytes.
public struct PackID: TypedID { public let raw: RawID; public init(raw: RawID) { self.raw = raw } }
/// Names an index file: SHA-256 of its bytes.
public struct IndexID: TypedID { public let raw: RawID; public init(raw: RawID) { self.raw = raw } }
/// Names a snapshot file: SHA-256 of its bytes.
public struct SnapshotID: TypedID { public let raw: RawID; public init(raw: RawID) { self.raw = raw } }
/// Names a key file: SHA-256 of its bytes.
public struct KeyID: TypedID { public let raw: RawID; public init(raw: RawID) { self.raw = raw } }
