#if canImport(Glibc)
import Glibc
#endif
import SnapCore

/// Reads a tar stream member by member, without seeking: POSIX ustar and PAX (`x` and
/// `g` extended headers, xattrs, nanosecond times), GNU (`L`/`K` long names, old `S`
/// sparse members, `D` dump folders) and pre-POSIX archives, with GNU sparse members in
/// PAX archives (formats 0.0, 0.1 and 1.0).
///
/// Made for untrusted input: every header block's checksum is checked, extended headers
/// and sparse maps have size bounds, a sparse map must match the data it describes, and a
/// stream that ends early is an error naming the member, never a short file.
///
/// Call `next()` for each member, then `read(into:)` for a regular file's content; what
/// is not read is skipped by the next `next()`.
public final class TarReader {
    /// Reads the next bytes of the stream into the buffer given; returns how many, 0 at its end.
    public typealias Source = (UnsafeMutableRawBufferPointer) throws -> Int

    /// Largest PAX extended header or GNU long name accepted (an xattr value can be 64 KiB).
    public static let maxExtendedHeader = 16 << 20
    /// Most extended-header bytes that may precede one member, and that global headers may hold.
    static let maxExtendedTotal = 64 << 20
    /// The largest sparse file accepted (ext4's largest file): its holes are read as
    /// zeros, so a hostile header must not claim exabytes.
    static let maxSparseSize: UInt64 = 1 << 44
    /// Bytes read past the end-of-archive blocks, so that a writer of padding sees no
    /// broken pipe, and no more.
    static let maxTrailer = 1 << 20

    private let source: Source
    private let buffer: UnsafeMutableRawBufferPointer
    private var start = 0, end = 0
    private var atEnd = false
    /// Bytes of the stream consumed.
    private var offset: UInt64 = 0
    /// Where the header being read, or the current member's first header, began.
    private var headerOffset: UInt64 = 0
    private var finished = false
    private var globals: [[UInt8]: [UInt8]] = [:]
    private var globalBytes = 0
    private var lastPath: [UInt8]?

    /// The current member's data: bytes still in the stream, and the padding after them.
    private var dataLeft: UInt64 = 0
    private var padding: UInt64 = 0
    /// Of a regular file: position in its content, its length, its sparse map (if any).
    private var isFile = false
    private var position: UInt64 = 0
    private var length: UInt64 = 0
    private var segments: [TarSparseSegment]?
    private var segment = 0

    public init(source: @escaping Source) {
        self.source = source
        buffer = .allocate(byteCount: 64 << 10, alignment: 64)
    }

    /// Reads an open file descriptor (a pipe, standard input) to its end.
    public convenience init(fd: Int32) {
        self.init { space in
            while true {
                let n = Glibc.read(fd, space.baseAddress, space.count)
                if n >= 0 { return n }
                if errno != EINTR { throw TarError(offset: 0, entry: nil, reason: "cannot read: \(String(cString: strerror(errno)))") }
            }
        }
    }

    deinit { buffer.deallocate() }

    /// The next member, with its extended headers applied; `nil` after the last.
    ///
    /// - Throws: `TarError` naming the stream offset and the member (or the one before).
    public func next() throws -> TarEntry? {
        guard !finished else { return nil }
        try skipRest()
        // Applied when the member's header comes: global records first, then local ones in order.
        var local: [(key: [UInt8], value: [UInt8])] = []
        var longName: [UInt8]?, longLink: [UInt8]?
        var extendedBytes = 0
        var pending = false
        while true {
            headerOffset = offset
            guard let block = try readBlock() else {
                if pending { throw problem("the stream ends after an extended header, before its member") }
                if offset == 0 { throw problem("the stream is empty: not a tar archive") }
                finished = true  // no end-of-archive blocks: accepted, as tar accepts it
                return nil
            }
            if TarHeader.isZero(block) {
                if pending { throw problem("end-of-archive block after an extended header, before its member") }
                finished = true
                try drainTrailer()
                return nil
            }
            let header = try checked { () throws(TarProblem) in try TarHeader(block) }
            switch header.typeflag {
            case UInt8(ascii: "x"), UInt8(ascii: "g"), UInt8(ascii: "L"), UInt8(ascii: "K"):
                guard header.size <= UInt64(Self.maxExtendedHeader) else {
                    throw problem("an extended header of \(header.size) bytes (at most \(Self.maxExtendedHeader) accepted)")
                }
                extendedBytes += Int(header.size)
                guard extendedBytes <= Self.maxExtendedTotal else {
                    throw problem("more than \(Self.maxExtendedTotal) bytes of extended headers before one member")
                }
                let data = try readData(Int(header.size))
                try skip(Self.padding(header.size), what: "an extended header's padding")
                pending = true
                switch header.typeflag {
                case UInt8(ascii: "x"):
                    local += try checked { () throws(TarProblem) in try TarExtendedHeader.records(data) }
                case UInt8(ascii: "g"):
                    for (key, value) in try checked({ () throws(TarProblem) in try TarExtendedHeader.records(data) }) {
                        if value.isEmpty {
                            if let old = globals.removeValue(forKey: key) { globalBytes -= key.count + old.count }
                        } else {
                            globalBytes += key.count + value.count - (globals[key].map { key.count + $0.count } ?? 0)
                            globals[key] = value
                        }
                        guard globalBytes <= Self.maxExtendedTotal else { throw problem("global extended headers hold more than \(Self.maxExtendedTotal) bytes") }
                    }
                    pending = longName != nil || longLink != nil || extendedBytes > Int(header.size)
                case UInt8(ascii: "L"):
                    longName = TarHeader.string(data[...])
                default:
                    longLink = TarHeader.string(data[...])
                }
                continue
            case UInt8(ascii: "V"):
                // A volume label: nothing to store.
                try skip(header.size + Self.padding(header.size), what: "a volume label")
                continue
            case UInt8(ascii: "M"), UInt8(ascii: "N"):
                throw problem("a GNU multi-volume or old long-name member: not supported")
            default:
                var extended = TarExtendedHeader()
                for (key, value) in globals.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) + local {
                    try checked { () throws(TarProblem) in try extended.apply(key: key, value: value) }
                }
                return try member(header, extended: extended, longName: longName, longLink: longLink)
            }
        }
    }

    /// Reads the current regular file's content (holes of a sparse file as zeros) into
    /// `space`; returns how many bytes, 0 at its end or for any other member.
    ///
    /// - Throws: `TarError` when the stream ends inside the content.
    public func read(into space: UnsafeMutableRawBufferPointer) throws -> Int {
        guard isFile, position < length, space.count > 0 else { return 0 }
        guard let segments else {
            let n = try readContent(into: space, max: length - position)
            position += UInt64(n)
            return n
        }
        while segment < segments.count, segments[segment].offset + segments[segment].length <= position { segment += 1 }
        if segment < segments.count, position >= segments[segment].offset {
            let n = try readContent(into: space, max: segments[segment].offset + segments[segment].length - position)
            position += UInt64(n)
            return n
        }
        // A hole, up to the next segment or the end.
        let next = segment < segments.count ? segments[segment].offset : length
        let n = Int(min(UInt64(space.count), next - position))
        if let base = space.baseAddress { memset(base, 0, n) }
        position += UInt64(n)
        return n
    }

    // MARK: - Members

    private func member(_ header: TarHeader, extended: TarExtendedHeader, longName: [UInt8]?, longLink: [UInt8]?) throws -> TarEntry {
        var path = extended.path ?? longName ?? header.name
        let type: TarEntryType
        switch header.typeflag {
        case UInt8(ascii: "1"): type = .hardLink
        case UInt8(ascii: "2"): type = .symlink
        case UInt8(ascii: "3"): type = .characterDevice
        case UInt8(ascii: "4"): type = .blockDevice
        case UInt8(ascii: "5"), UInt8(ascii: "D"): type = .directory
        case UInt8(ascii: "6"): type = .fifo
        case UInt8(ascii: "0"), 0: type = path.last == UInt8(ascii: "/") ? .directory : .file  // pre-POSIX folders end in '/'
        default: type = .file  // '7' (contiguous), 'S' (sparse) and, as POSIX asks, unknown types
        }
        if type == .file, let real = extended.sparseName { path = real }
        var entry = TarEntry(path: path, type: type)
        lastPath = path
        guard !path.isEmpty else { throw problem("a member without a name") }
        entry.mode = header.mode
        entry.uid = extended.uid ?? header.uid
        entry.gid = extended.gid ?? header.gid
        entry.user = extended.user ?? header.user
        entry.group = extended.group ?? header.group
        entry.mtime = extended.mtime ?? Timestamp(seconds: header.mtime, nanoseconds: 0)
        entry.atime = extended.atime ?? header.atime.map { Timestamp(seconds: $0, nanoseconds: 0) }
        entry.ctime = extended.ctime ?? header.ctime.map { Timestamp(seconds: $0, nanoseconds: 0) }
        entry.linkTarget = extended.linkPath ?? longLink ?? header.linkName
        entry.deviceMajor = extended.deviceMajor ?? header.deviceMajor
        entry.deviceMinor = extended.deviceMinor ?? header.deviceMinor
        entry.xattrs = extended.xattrs.map { ExtendedAttribute(name: $0.key, value: $0.value) }
            .sorted { $0.name.lexicographicallyPrecedes($1.name) }
        entry.unreadableACLs = extended.unreadableACLs

        var sparse: [TarSparseSegment]?
        var realSize: UInt64 = 0
        if type == .file && header.typeflag == UInt8(ascii: "S") {
            var list = header.sparse
            var more = header.sparseExtended
            while more {
                guard let block = try readBlock() else { throw problem("the stream ends inside a sparse map") }
                guard list.count < TarExtendedHeader.maxSparseSegments else { throw problem("more than \(TarExtendedHeader.maxSparseSegments) sparse segments") }
                list += try checked { () throws(TarProblem) in try TarHeader.sparseSegments(block[0..<504], count: 21) }
                more = block[504] != 0
            }
            sparse = list
            realSize = header.realSize
        }
        let dataSize = extended.size ?? header.size
        guard dataSize <= UInt64(Int64.max) else { throw problem("size out of range") }
        dataLeft = dataSize
        padding = Self.padding(dataSize)
        if type == .file && extended.isSparse {
            guard let size = extended.sparseSize else { throw problem("a sparse member without its real size (GNU.sparse.size or GNU.sparse.realsize)") }
            realSize = size
            sparse = extended.sparseMajor == 1 ? try sparseMapInData() : try pairs(extended.sparseMap)
        }
        isFile = type == .file
        position = 0
        segment = 0
        segments = sparse
        if let sparse {
            guard realSize <= Self.maxSparseSize else {
                throw problem("a sparse file of \(realSize) bytes (at most \(Self.maxSparseSize), 16 TiB, accepted)")
            }
            try validate(sparse, realSize: realSize)
            length = realSize
        } else {
            length = isFile ? dataLeft : 0
        }
        entry.size = length
        entry.sparse = sparse
        return entry
    }

    private func pairs(_ numbers: [UInt64]) throws -> [TarSparseSegment] {
        guard numbers.count.isMultiple(of: 2) else { throw problem("a sparse map with an offset but no length") }
        return stride(from: 0, to: numbers.count, by: 2).map { TarSparseSegment(offset: numbers[$0], length: numbers[$0 + 1]) }
    }

    /// GNU sparse format 1.0: the map opens the member's data, as decimal numbers each
    /// ended by a newline (count, then offset and length pairs), padded to a whole block.
    private func sparseMapInData() throws -> [TarSparseSegment] {
        var numbers: [UInt64] = []
        var count: UInt64?
        var digits: [UInt8] = []
        while count.map({ UInt64(numbers.count) < 2 * $0 }) ?? true {
            guard dataLeft >= UInt64(TarHeader.blockSize) else { throw problem("the sparse map runs past the member's data") }
            guard let block = try readBlock() else { throw problem("the stream ends inside a sparse map") }
            dataLeft -= UInt64(TarHeader.blockSize)
            for byte in block {
                if let wanted = count, UInt64(numbers.count) >= 2 * wanted { break }
                if byte == UInt8(ascii: "\n") {
                    let value = try checked { () throws(TarProblem) in try TarExtendedHeader.decimal(digits, "sparse map") }
                    digits = []
                    if count == nil {
                        guard value <= UInt64(TarExtendedHeader.maxSparseSegments) else { throw problem("more than \(TarExtendedHeader.maxSparseSegments) sparse segments") }
                        count = value
                    } else {
                        numbers.append(value)
                    }
                } else {
                    guard digits.count < 20 else { throw problem("malformed sparse map") }
                    digits.append(byte)
                }
            }
        }
        return try pairs(numbers)
    }

    /// A sparse map must list segments in order, without overlaps, inside the file, and
    /// account for exactly the data stored.
    private func validate(_ segments: [TarSparseSegment], realSize: UInt64) throws {
        var end: UInt64 = 0, total: UInt64 = 0
        for s in segments {
            let (stop, overflow) = s.offset.addingReportingOverflow(s.length)
            guard !overflow, s.offset >= end, stop <= realSize else {
                throw problem("the sparse map's segments overlap, are out of order or run past the file's size")
            }
            end = stop
            total += s.length
        }
        guard total == dataLeft else {
            throw problem("the sparse map describes \(total) bytes of data but the member holds \(dataLeft)")
        }
    }

    // MARK: - Stream

    /// The current member's name (or the previous one's), for messages.
    private var name: String? {
        lastPath.map { path in
            let text = PathBytes.display(path)
            return text.count > 200 ? String(text.prefix(200)) + "…" : text
        }
    }

    private func problem(_ reason: String) -> TarError { TarError(offset: headerOffset, entry: name, reason: reason) }

    private func checked<T>(_ body: () throws(TarProblem) -> T) throws -> T {
        do { return try body() } catch { throw problem(error.reason) }
    }

    private static func padding(_ size: UInt64) -> UInt64 { (512 - size % 512) % 512 }

    /// Copies up to `max` bytes of the current member's data into `space`.
    private func readContent(into space: UnsafeMutableRawBufferPointer, max: UInt64) throws -> Int {
        let wanted = Int(min(UInt64(space.count), max, dataLeft))
        guard wanted > 0 else { throw problem("the member's data ends before its content (\(length - position) bytes missing)") }
        let n = try copy(into: UnsafeMutableRawBufferPointer(rebasing: space[0..<wanted]))
        guard n > 0 else { throw problem("the stream ends inside this member's content (\(dataLeft) bytes missing)") }
        dataLeft -= UInt64(n)
        return n
    }

    /// Skips what is left of the current member: its unread data and padding.
    private func skipRest() throws {
        try skip(dataLeft + padding, what: "this member's content")
        dataLeft = 0
        padding = 0
        isFile = false
    }

    /// Refills the buffer when it is empty; `false` at the end of the stream.
    private func fill() throws -> Bool {
        if start < end { return true }
        if atEnd { return false }
        start = 0
        end = try source(buffer)
        guard end >= 0, end <= buffer.count else { throw problem("the stream's reader returned a bad count") }
        if end == 0 { atEnd = true }
        return end > 0
    }

    /// Copies buffered (or new) bytes into `space`; 0 only at the end of the stream.
    private func copy(into space: UnsafeMutableRawBufferPointer) throws -> Int {
        guard try fill(), let target = space.baseAddress, let base = buffer.baseAddress else { return 0 }
        let n = min(space.count, end - start)
        memcpy(target, base + start, n)
        start += n
        offset += UInt64(n)
        return n
    }

    /// The next header block; `nil` when the stream ends exactly here.
    private func readBlock() throws -> [UInt8]? {
        var block = [UInt8](repeating: 0, count: TarHeader.blockSize)
        var got = 0
        try block.withUnsafeMutableBytes { bytes in
            while got < bytes.count {
                let n = try copy(into: UnsafeMutableRawBufferPointer(rebasing: bytes[got...]))
                if n == 0 { break }
                got += n
            }
        }
        if got == 0 { return nil }
        guard got == TarHeader.blockSize else { throw problem("the stream ends inside a header block") }
        return block
    }

    /// Exactly `count` bytes (an extended header's), `count` already bounded.
    private func readData(_ count: Int) throws -> [UInt8] {
        var data = [UInt8](repeating: 0, count: count)
        var got = 0
        try data.withUnsafeMutableBytes { bytes in
            while got < count {
                let n = try copy(into: UnsafeMutableRawBufferPointer(rebasing: bytes[got...]))
                guard n > 0 else { throw problem("the stream ends inside an extended header") }
                got += n
            }
        }
        return data
    }

    private func skip(_ count: UInt64, what: String) throws {
        var left = count
        while left > 0 {
            guard try fill() else { throw problem("the stream ends inside \(what) (\(left) bytes missing)") }
            let n = Int(min(left, UInt64(end - start)))
            start += n
            offset += UInt64(n)
            left -= UInt64(n)
        }
    }

    /// Reads on after the end-of-archive blocks (a tar writer pads to whole records), up to
    /// `maxTrailer` bytes.
    private func drainTrailer() throws {
        var read = 0
        while read < Self.maxTrailer, try fill() {
            let n = min(end - start, Self.maxTrailer - read)
            start += n
            offset += UInt64(n)
            read += n
        }
    }
}
