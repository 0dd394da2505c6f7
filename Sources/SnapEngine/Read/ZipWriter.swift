#if canImport(Glibc)
import Glibc
#endif
import SnapCompression
import SnapStorage

/// Why a zip stream cannot be written.
public enum ZipError: Error, Equatable, CustomStringConvertible {
    /// Zip stores a name's length in 16 bits.
    case nameTooLong(name: String)
    /// A file grew past 4 GiB after it was announced smaller, with no ZIP64 field to hold its size.
    case sizeBeyondHeader(name: String)
    /// Calls out of order: content with no file begun, or a new entry while a file is open.
    case outOfOrder(call: String)

    public var description: String {
        switch self {
        case let .nameTooLong(name): return "\(name): the name is longer than zip's 65,535 bytes"
        case let .sizeBeyondHeader(name): return "\(name): its content is larger than its size said (zip needs the size up front)"
        case let .outOfOrder(call): return "zip writer: \(call) called out of order"
        }
    }
}

/// Writes a zip archive (PKWARE APPNOTE 6.3) as a stream, for output that cannot seek
/// (standard output, a pipe).
///
/// Every file's local header sets the data-descriptor flag (bit 3) and leaves CRC-32 and
/// sizes at zero; they follow the deflated data in a data descriptor and are repeated in
/// the central directory at the end. Where a size, an offset or the entry count does not
/// fit 32 (16) bits, ZIP64 extra fields and the ZIP64 end-of-central-directory record hold
/// it: a file announced near 4 GiB or more gets a ZIP64 field in its local header, and so
/// an 8-byte-size data descriptor, as APPNOTE 4.3.9 asks. Folders (names ending in `/`)
/// and symbolic links (the target as stored content) are written with their sizes in place.
/// Names are flagged UTF-8 (bit 11) when they are; the Unix mode goes into the high 16 bits
/// of the external attributes with "made by" host 3 (Unix), and the modification time into
/// the DOS fields (local time) and the extended-timestamp field (0x5455, UTC), as Info-ZIP
/// writes them, so `unzip` restores modes, links and times. Local headers also carry the
/// mode in libarchive's `xl` field (0x6c78), so that bsdtar reading the stream from a pipe
/// restores modes and links too; other readers skip the field.
///
/// Our own small writer because ZIPFoundation and the like need a seekable file to go back
/// and fill in sizes. Compression and CRC-32 are zlib's (`Deflater`, `CRC32`).
///
/// Memory: one piece of content at a time, and at most `spillSize` of the central
/// directory (about 60 bytes and the name an entry): beyond that it waits in a nameless
/// temporary file (`StagedFile`, in `$TMPDIR`) until `finish` writes it, so that an archive
/// of a million entries does not hold 60 MB of it. Where that file cannot be written, the
/// rest of the directory stays in memory, as it did before.
public final class ZipWriter {
    /// What an entry is.
    public enum EntryType { case file, directory, symlink }

    /// One entry's metadata.
    public struct Entry {
        /// The name in the archive, relative (no leading `/`); a folder's `/` is added if missing.
        public var name: [UInt8]
        public var type: EntryType
        /// Permission bits (`0o7777` is kept); the file-type bits are added from `type`.
        public var mode: UInt32
        public var mtimeSeconds: Int64

        public init(name: [UInt8], type: EntryType, mode: UInt32, mtimeSeconds: Int64) {
            self.name = name; self.type = type; self.mode = mode; self.mtimeSeconds = mtimeSeconds
        }
    }

    /// The file being written between `beginFile` and `finishFile`.
    private struct OpenFile {
        let entry: Entry
        let headerOffset: UInt64
        let zip64: Bool
        var crc = CRC32()
        var size: UInt64 = 0
        var compressedSize: UInt64 = 0
    }

    private let output: ([UInt8]) throws -> Void
    /// Values at or above this go into ZIP64 fields (below 0xFFFFFFFF only to test them).
    private let zip64Threshold: UInt64
    private let deflater: Deflater
    private var offset: UInt64 = 0
    /// The central directory's last records; earlier ones are in `spilled`.
    private var central: [UInt8] = []
    private var spilled: StagedFile?
    private var spillFailed = false
    private var centralSize: UInt64 = 0
    /// How much of the central directory is kept in memory before it goes to `spilled`.
    var spillSize = 1 << 20
    private var count: UInt64 = 0
    private var open: OpenFile?

    /// - Parameter output: receives the stream in pieces, in order.
    /// - Throws: `DeflateError` when zlib cannot set up a stream.
    public convenience init(output: @escaping ([UInt8]) throws -> Void) throws {
        try self.init(output: output, zip64Threshold: 0xFFFF_FFFF)
    }

    /// - Parameter zip64Threshold: sizes, offsets and counts at or above it are written as
    ///   ZIP64; less than 0xFFFFFFFF only to exercise ZIP64 without writing 4 GiB.
    init(output: @escaping ([UInt8]) throws -> Void, zip64Threshold: UInt64) throws {
        self.output = output
        self.zip64Threshold = min(zip64Threshold, 0xFFFF_FFFF)
        deflater = try Deflater()
    }

    /// Writes a folder or a symbolic link (`content` is the link's target).
    public func add(_ entry: Entry, content: [UInt8] = []) throws {
        guard open == nil else { throw ZipError.outOfOrder(call: "add") }
        var entry = entry
        if entry.type == .directory && entry.name.last != 0x2f { entry.name.append(0x2f) }
        var crc = CRC32()
        crc.update(content)
        let size = UInt64(content.count)
        let zip64 = size >= zip64Threshold
        let headerOffset = offset
        try emit(localHeader(entry, flags: 0, method: 0, crc: crc.value, size: size, compressedSize: size, zip64: zip64))
        try emit(content)
        try record(entry, flags: 0, method: 0, crc: crc.value, size: size, compressedSize: size, headerOffset: headerOffset, zip64: zip64)
    }

    /// Starts a regular file of `size` bytes (deflated); its content follows through `write`,
    /// then `finishFile`.
    public func beginFile(_ entry: Entry, size: UInt64) throws {
        guard open == nil else { throw ZipError.outOfOrder(call: "beginFile") }
        let zip64 = size >= zip64Threshold || Deflater.bound(size) >= zip64Threshold
        open = OpenFile(entry: entry, headerOffset: offset, zip64: zip64)
        try emit(localHeader(entry, flags: Self.streamed, method: 8, crc: 0, size: 0, compressedSize: 0, zip64: zip64))
    }

    /// Adds `bytes` to the file begun last.
    public func write(_ bytes: [UInt8]) throws {
        guard var file = open else { throw ZipError.outOfOrder(call: "write") }
        var compressed: [UInt8] = []
        try bytes.withUnsafeBytes { raw in
            file.crc.update(raw)
            try deflater.compress(raw, appendingTo: &compressed)
        }
        file.size += UInt64(bytes.count)
        file.compressedSize += UInt64(compressed.count)
        open = file
        try emit(compressed)
    }

    /// Ends the file begun last: the rest of the deflate stream and the data descriptor.
    public func finishFile() throws {
        guard var file = open else { throw ZipError.outOfOrder(call: "finishFile") }
        open = nil
        var compressed: [UInt8] = []
        try deflater.finish(appendingTo: &compressed)
        try deflater.reset()
        file.compressedSize += UInt64(compressed.count)
        guard file.zip64 || (file.size < 0xFFFF_FFFF && file.compressedSize < 0xFFFF_FFFF) else {
            throw ZipError.sizeBeyondHeader(name: PathBytes.display(file.entry.name))
        }
        var d = LittleEndianBytes()
        d.u32(0x0807_4b50)
        d.u32(file.crc.value)
        if file.zip64 { d.u64(file.compressedSize); d.u64(file.size) } else { d.u32(UInt32(file.compressedSize)); d.u32(UInt32(file.size)) }
        try emit(compressed + d.bytes)
        try record(file.entry, flags: Self.streamed, method: 8, crc: file.crc.value, size: file.size,
                   compressedSize: file.compressedSize, headerOffset: file.headerOffset, zip64: file.zip64)
    }

    /// Writes the central directory and the end records; the archive is complete after it.
    public func finish() throws {
        guard open == nil else { throw ZipError.outOfOrder(call: "finish") }
        let directoryOffset = offset, directorySize = centralSize
        try spilled?.forEachPiece { try emit(Array($0)) }
        spilled = nil
        try emit(central)
        central = []
        var e = LittleEndianBytes()
        let zip64 = count >= min(0xFFFF, zip64Threshold) || directorySize >= zip64Threshold || directoryOffset >= zip64Threshold
        if zip64 {
            let recordOffset = offset
            e.u32(0x0606_4b50)
            e.u64(44)  // the size of the rest of this record
            e.u16(Self.madeBy); e.u16(45)
            e.u32(0); e.u32(0)  // this disk, the disk where the directory starts
            e.u64(count); e.u64(count)
            e.u64(directorySize); e.u64(directoryOffset)
            e.u32(0x0706_4b50)  // the locator
            e.u32(0); e.u64(recordOffset); e.u32(1)
        }
        e.u32(0x0605_4b50)
        e.u16(0); e.u16(0)
        let shortCount = zip64 ? 0xFFFF : UInt16(count)
        e.u16(shortCount); e.u16(shortCount)
        e.u32(zip64 ? 0xFFFF_FFFF : UInt32(directorySize))
        e.u32(zip64 ? 0xFFFF_FFFF : UInt32(directoryOffset))
        e.u16(0)  // comment length
        try emit(e.bytes)
    }

    // MARK: Records

    /// General-purpose flag bit 3: CRC-32 and sizes follow the data.
    private static let streamed: UInt16 = 1 << 3
    /// Version made by: host 3 (Unix), APPNOTE 6.3.
    private static let madeBy: UInt16 = 3 << 8 | 63

    private func emit(_ bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { return }
        try output(bytes)
        offset += UInt64(bytes.count)
    }

    private func flags(_ entry: Entry, _ flags: UInt16) -> UInt16 {
        String(validating: entry.name, as: UTF8.self) == nil ? flags : flags | 1 << 11
    }

    private func localHeader(_ entry: Entry, flags: UInt16, method: UInt16, crc: UInt32, size: UInt64,
                             compressedSize: UInt64, zip64: Bool) throws -> [UInt8] {
        guard entry.name.count <= 0xFFFF else { throw ZipError.nameTooLong(name: PathBytes.display(entry.name)) }
        var extra = LittleEndianBytes()
        if zip64 { extra.u16(1); extra.u16(16); extra.u64(size); extra.u64(compressedSize) }
        timestamp(entry, into: &extra)
        // libarchive's 'xl' field: "made by" and the external attributes, which otherwise
        // only the central directory has, so that bsdtar reading a stream gets modes and links.
        extra.u16(0x6c78); extra.u16(7); extra.u8(0b101)
        extra.u16(Self.madeBy); extra.u32(externalAttributes(entry))
        var h = LittleEndianBytes()
        h.u32(0x0403_4b50)
        h.u16(zip64 ? 45 : 20)
        h.u16(self.flags(entry, flags)); h.u16(method)
        dosTime(entry.mtimeSeconds, into: &h)
        h.u32(crc)
        h.u32(zip64 ? 0xFFFF_FFFF : UInt32(compressedSize)); h.u32(zip64 ? 0xFFFF_FFFF : UInt32(size))
        h.u16(UInt16(entry.name.count)); h.u16(UInt16(extra.bytes.count))
        return h.bytes + entry.name + extra.bytes
    }

    /// Adds the entry's central-directory header to those written at the end. Sizes are in
    /// the ZIP64 field when they do not fit or when the local header had one (`zip64`).
    private func record(_ entry: Entry, flags: UInt16, method: UInt16, crc: UInt32, size: UInt64, compressedSize: UInt64,
                        headerOffset: UInt64, zip64: Bool) throws {
        // ZIP64 extra: only the values marked 0xFFFFFFFF in the fixed fields, in this order.
        let wideSizes = zip64 || size >= zip64Threshold || compressedSize >= zip64Threshold
        let wideOffset = headerOffset >= zip64Threshold
        var wide = LittleEndianBytes()
        if wideSizes { wide.u64(size); wide.u64(compressedSize) }
        if wideOffset { wide.u64(headerOffset) }
        var extra = LittleEndianBytes()
        if !wide.bytes.isEmpty { extra.u16(1); extra.u16(UInt16(wide.bytes.count)); extra.bytes += wide.bytes }
        timestamp(entry, into: &extra)
        var h = LittleEndianBytes()
        h.u32(0x0201_4b50)
        h.u16(Self.madeBy); h.u16(wide.bytes.isEmpty ? 20 : 45)
        h.u16(self.flags(entry, flags)); h.u16(method)
        dosTime(entry.mtimeSeconds, into: &h)
        h.u32(crc)
        h.u32(wideSizes ? 0xFFFF_FFFF : UInt32(compressedSize)); h.u32(wideSizes ? 0xFFFF_FFFF : UInt32(size))
        h.u16(UInt16(entry.name.count)); h.u16(UInt16(extra.bytes.count))
        h.u16(0); h.u16(0); h.u16(0)  // comment length, disk, internal attributes
        h.u32(externalAttributes(entry))
        h.u32(wideOffset ? 0xFFFF_FFFF : UInt32(headerOffset))
        central += h.bytes + entry.name + extra.bytes
        centralSize += UInt64(h.bytes.count + entry.name.count + extra.bytes.count)
        count += 1
        if central.count >= spillSize && !spillFailed {
            do {
                // A failed append leaves the file's size, and so what `finish` reads, as it was.
                let file = try spilled ?? StagedFile.temporary()
                try file.append(central)
                spilled = file
                central.removeAll(keepingCapacity: true)
            } catch {
                spillFailed = true
            }
        }
    }

    /// The Unix mode with its file type in the high 16 bits, and the MS-DOS folder bit (0x10).
    private func externalAttributes(_ entry: Entry) -> UInt32 {
        let type: UInt32 = switch entry.type { case .file: 0o100000; case .directory: 0o040000; case .symlink: 0o120000 }
        return (type | entry.mode & 0o7777) << 16 | (entry.type == .directory ? 0x10 : 0)
    }

    /// The extended-timestamp field (0x5455) with the modification time only, in UTC seconds.
    private func timestamp(_ entry: Entry, into b: inout LittleEndianBytes) {
        b.u16(0x5455); b.u16(5); b.u8(1)
        b.u32(UInt32(bitPattern: Int32(clamping: entry.mtimeSeconds)))
    }

    /// MS-DOS time and date in local time (2-second steps, 1980…2107, clamped).
    private func dosTime(_ seconds: Int64, into b: inout LittleEndianBytes) {
        var t = time_t(seconds)
        var parts = tm()
        guard localtime_r(&t, &parts) != nil else { b.u16(0); b.u16(0x21); return }
        let year = Int(parts.tm_year) + 1900
        if year < 1980 { b.u16(0); b.u16(0x21); return }  // 1980-01-01 00:00
        if year > 2107 { b.u16(0xBF7D); b.u16(0xFF9F); return }  // 2107-12-31 23:59:58
        b.u16(UInt16(parts.tm_hour) << 11 | UInt16(parts.tm_min) << 5 | UInt16(parts.tm_sec / 2))
        b.u16(UInt16(year - 1980) << 9 | UInt16(parts.tm_mon + 1) << 5 | UInt16(parts.tm_mday))
    }
}

/// Little-endian fields, appended in order.
struct LittleEndianBytes {
    var bytes: [UInt8] = []
    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { bytes += [UInt8(v & 0xff), UInt8(v >> 8)] }
    mutating func u32(_ v: UInt32) { for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
    mutating func u64(_ v: UInt64) { for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
}
