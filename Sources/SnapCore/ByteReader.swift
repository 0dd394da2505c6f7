/// Thrown when binary data ends early or holds a value that its format forbids.
public struct DecodingFailure: Error, Equatable, CustomStringConvertible {
    public let reason: String
    public let offset: Int
    public init(_ reason: String, at offset: Int) { self.reason = reason; self.offset = offset }
    public var description: String { "malformed data at byte \(offset): \(reason)" }
}

/// Reads the encodings written by `ByteWriter`, throwing `DecodingFailure` on malformed input.
public struct ByteReader {
    private let bytes: [UInt8]
    public private(set) var offset: Int

    public init(_ bytes: [UInt8], offset: Int = 0) { self.bytes = bytes; self.offset = offset }

    /// Whether every byte has been read.
    public var isAtEnd: Bool { offset == bytes.count }
    public var remaining: Int { bytes.count - offset }

    private mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, n <= remaining else { throw DecodingFailure("needs \(n) bytes, \(remaining) left", at: offset) }
        defer { offset += n }
        return bytes[offset..<offset + n]
    }

    public mutating func u8() throws -> UInt8 { let byte = try take(1); return byte[byte.startIndex] }

    public mutating func u32() throws -> UInt32 {
        try take(4).reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }

    public mutating func u64() throws -> UInt64 {
        try take(8).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    public mutating func uvarint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        let start = offset
        while true {
            let b = try u8()
            if shift == 63 && b > 1 { throw DecodingFailure("varint overflows 64 bits", at: start) }
            result |= UInt64(b & 0x7f) << shift
            if b & 0x80 == 0 {
                if b == 0 && shift > 0 { throw DecodingFailure("non-canonical varint", at: start) }
                return result
            }
            shift += 7
        }
    }

    public mutating func svarint() throws -> Int64 {
        let u = try uvarint()
        return Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
    }

    /// A uvarint that must fit in `Int` and be at most `limit`.
    public mutating func count(limit: Int = Int.max) throws -> Int {
        let start = offset
        let v = try uvarint()
        guard v <= UInt64(limit) else { throw DecodingFailure("count \(v) exceeds \(limit)", at: start) }
        return Int(v)
    }

    public mutating func data() throws -> [UInt8] {
        let n = try count(limit: remaining)
        return Array(try take(n))
    }

    public mutating func string() throws -> String {
        let start = offset
        let d = try data()
        guard let s = String(validating: d, as: UTF8.self) else { throw DecodingFailure("invalid UTF-8", at: start) }
        return s
    }

    public mutating func id() throws -> RawID {
        let start = offset
        guard let id = RawID(bytes: try take(32)) else { throw DecodingFailure("an ID needs 32 bytes", at: start) }
        return id
    }

    public mutating func raw(_ n: Int) throws -> [UInt8] { Array(try take(n)) }
}
