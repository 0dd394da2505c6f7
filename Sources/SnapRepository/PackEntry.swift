import SnapCore

/// Where a blob sits inside its pack: one row of a pack header or index file.
///
/// The type comes last so that it packs behind the lengths: 48 bytes a row, not 56
/// (check holds every row of the index).
public struct PackEntry: Sendable, Equatable {
    public var id: BlobID
    /// Offset of the blob's ciphertext from the start of the pack.
    public var offset: UInt32
    /// Length of the ciphertext including the 16-byte tag.
    public var length: UInt32
    /// Length of the plaintext.
    public var rawLength: UInt32
    public var type: BlobType

    public init(type: BlobType, id: BlobID, offset: UInt32, length: UInt32, rawLength: UInt32) {
        self.type = type; self.id = id; self.offset = offset; self.length = length; self.rawLength = rawLength
    }

    /// Whether the blob is stored zstd-compressed: exactly when its stored body is shorter
    /// than its plaintext (snap stores a blob uncompressed when compression does not help).
    public var isCompressed: Bool { length - 16 != rawLength }

    /// Appends the row as index files and pack headers store it (FORMAT.md, "Index files").
    public func encode(into w: inout ByteWriter) {
        w.u8(type.rawValue)
        w.id(id.raw)
        w.uvarint(UInt64(offset))
        w.uvarint(UInt64(length))
        w.uvarint(UInt64(rawLength))
    }

    static func decode(from r: inout ByteReader) throws -> PackEntry {
        let start = r.offset
        guard let type = BlobType(rawValue: try r.u8()) else { throw DecodingFailure("unknown blob type", at: start) }
        let id = BlobID(raw: try r.id())
        let offset = try r.count(limit: Int(UInt32.max))
        let length = try r.count(limit: Int(UInt32.max))
        let rawLength = try r.count(limit: Int(UInt32.max))
        guard length >= 16, length - 16 <= rawLength else {
            throw DecodingFailure("blob length \(length) inconsistent with plaintext length \(rawLength)", at: start)
        }
        return PackEntry(type: type, id: id, offset: UInt32(offset), length: UInt32(length), rawLength: UInt32(rawLength))
    }
}
