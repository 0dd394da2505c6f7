import SnapCore

/// Why an index table file was not used or could not be written.
///
/// The table is a cache: none of these make a command fail. A table that cannot be read
/// is rebuilt from the index files; one that cannot be written leaves the index in memory.
enum IndexTableError: Error, CustomStringConvertible {
    /// A system call failed on `path` with `errno`.
    case system(call: String, path: String, errno: Int32)
    /// The file is not a table this version writes, or it is truncated or inconsistent.
    case malformed(path: String, reason: String)

    var description: String {
        switch self {
        case let .system(call, path, errno): return "\(call) \(path): errno \(errno)"
        case let .malformed(path, reason): return "\(path): \(reason)"
        }
    }
}

/// The byte layout of an index table file (docs/architecture.md, "The blob index").
///
/// All integers are in the machine's byte order (the magic number, read in the wrong
/// order, rejects a file carried to another machine). Sections, in file order:
///
/// | offset | bytes | content |
/// |---|---|---|
/// | 0 | 128 | header: the `u64`/`u32` fields below |
/// | 128 | 65,537 × 4 | bucket directory: first record of each bucket (top 16 bits of the ID), then the record count |
/// | `sumsOffset` | 65,536 × 8 | checksum of each bucket's records |
/// | `recordsOffset` (page-aligned) | count × 48 | records, sorted by blob ID, one per ID (`BlobIndex.Record`) |
/// | `packsOffset` | packs × 64 | pack rows: ID (32), salt (24), size `u32`, records in the table `u32` |
/// | | packs × 4, padded to 8 | pack numbers sorted by pack ID |
/// | | files × 32 | every index file read to build the table, sorted (the live ones hold its records) |
/// | | edges × 64 | (file, file it supersedes) for every index file read when it was built |
/// | `filter` | words × 8 | a Bloom filter per bucket, in bucket order: ⌈records ÷ 8⌉ words of 64 bits each (8 bits per record), `filterProbes` bits set per ID (`filterBits`) |
///
/// Header fields (`u64` unless said): 0 magic, 8 version `u32`, 12 record stride `u32`,
/// 16 record count, 24 pack count, 32 file count, 40 edge count, 48 file size,
/// 56 checksum of everything but the records (header bytes 0..<56, directory, sums, and
/// the sections after the records). Every offset follows from the counts.
enum IndexTableFormat {
    /// "snapBIX1" as bytes.
    static let magic: UInt64 = 0x3158_4942_7061_6E73
    /// 2 added the filter; a table of version 1 is rebuilt.
    static let version: UInt32 = 2
    static let headerSize = 128
    /// Header bytes covered by the metadata checksum (everything before it).
    static let checkedHeaderBytes = 56
    static let bucketBits = 16
    static let bucketCount = 1 << bucketBits
    static let directoryOffset = headerSize
    static let sumsOffset = align(directoryOffset + (bucketCount + 1) * 4, to: 8)
    static let recordsOffset = align(sumsOffset + bucketCount * 8, to: 4096)
    static let recordSize = MemoryLayout<BlobIndex.Record>.stride
    static let packRowSize = 64
    static let idSize = 32
    static let edgeSize = 64

    /// Where each section after the records starts, and where the file ends, for these counts.
    struct Offsets: Equatable {
        let packs: Int, packOrder: Int, files: Int, edges: Int, filter: Int, end: Int

        init(records: Int, packs packCount: Int, files fileCount: Int, edges edgeCount: Int, filterWords: Int) {
            packs = IndexTableFormat.recordsOffset + records * IndexTableFormat.recordSize
            packOrder = packs + packCount * IndexTableFormat.packRowSize
            files = packOrder + align(packCount * 4, to: 8)
            edges = files + fileCount * IndexTableFormat.idSize
            filter = edges + edgeCount * IndexTableFormat.edgeSize
            end = filter + filterWords * 8
        }
    }

    // MARK: Filter

    /// Bits set per ID in its bucket's filter. With 8 bits per record, about 2.4 % of IDs
    /// that are absent pass the filter and are searched; the other absent IDs are answered
    /// without touching the records (a `pread` saved on a large table). Present IDs always pass.
    static let filterProbes = 4

    /// The 64-bit words of the filter of a bucket holding `records` records.
    static func filterWords(records: Int) -> Int { (records + 7) / 8 }

    /// The filter bit positions of `id` in a bucket filter of `words` words (`words > 0`),
    /// passed to `body` until it returns `false` (a lookup stops at the first clear bit).
    /// IDs are uniform hashes, so their second and third words serve as the two hashes of
    /// double hashing; each probe is mapped onto the bits by a multiply, not a division.
    static func filterBits(of id: RawID, words: Int, _ body: (Int) -> Bool) {
        let bits = UInt64(words * 64)
        let step = id.w2 | 1
        var h = id.w1
        for _ in 0..<filterProbes {
            guard body(Int(bits.multipliedFullWidth(by: h).high)) else { return }
            h = h &+ step
        }
    }

    /// The bucket of an ID: its top 16 bits.
    static func bucket(of id: RawID) -> Int { Int(id.w0 >> UInt64(64 - bucketBits)) }

    static func align(_ value: Int, to alignment: Int) -> Int { (value + alignment - 1) / alignment * alignment }
}

/// A fast 64-bit checksum (not cryptographic): it catches a damaged or half-written cache
/// file, not a deliberate forgery, which needs write access to the cache folder anyway.
struct TableChecksum {
    private(set) var value: UInt64 = 0x243F_6A88_85A3_08D3

    /// Mixes in `bytes`; callers feed the same byte sequence in the same order, word-aligned.
    mutating func add(_ bytes: UnsafeRawBufferPointer) {
        var i = 0
        while i + 8 <= bytes.count {
            mix(bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            i += 8
        }
        if i < bytes.count {
            var tail = UInt64(bytes.count - i) << 56
            for j in i..<bytes.count { tail = tail ^ UInt64(bytes[j]) << UInt64(8 * (j - i)) }
            mix(tail)
        }
    }

    mutating func add(_ bytes: [UInt8]) { bytes.withUnsafeBytes { add($0) } }

    private mutating func mix(_ word: UInt64) {
        var h = (value ^ word) &* 0x9E37_79B9_7F4A_7C15
        h ^= h >> 31
        value = h &* 0xBF58_476D_1CE4_E5B9 ^ (h >> 29)
    }
}
