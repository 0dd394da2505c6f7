/// Appends the primitive encodings used by snap's binary formats (see FORMAT.md, "Encodings").
public struct ByteWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    public mutating func u8(_ v: UInt8) { bytes.append(v) }

    /// Little-endian fixed-width 32-bit integer.
    public mutating func u32(_ v: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt32(shift))) }
    }

    /// Little-endian fixed-width 64-bit integer.
    public mutating func u64(_ v: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt64(shift))) }
    }

    /// Unsigned LEB128: seven bits a byte, least significant group first, high bit set on all but the last.
    public mutating func uvarint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// Signed integer as zig-zag then unsigned LEB128.
    public mutating func svarint(_ v: Int64) {
        uvarint(UInt64(bitPattern: (v << 1) ^ (v >> 63)))
    }

    /// A byte string: its length as uvarint, then the bytes.
    public mutating func data<C: Collection>(_ d: C) where C.Element == UInt8 {
        uvarint(UInt64(d.count))
        bytes.append(contentsOf: d)
    }

    /// A UTF-8 string, encoded as a byte string.
    public mutating func string(_ s: String) { data(Array(s.utf8)) }

    /// Exactly 32 bytes, no length.
    public mutating func id(_ id: RawID) { bytes.append(contentsOf: id.bytes) }

    /// Raw bytes, no length.
    public mutating func raw<C: Sequence>(_ d: C) where C.Element == UInt8 { bytes.append(contentsOf: d) }
}
