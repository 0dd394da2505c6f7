/// What was wrong, before the reader adds where (`TarError`).
struct TarProblem: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}

/// One 512-byte header block, decoded: POSIX ustar, GNU (`ustar  `, with access and
/// change times and the old sparse map) and pre-POSIX (v7) headers.
struct TarHeader {
    static let blockSize = 512

    var name: [UInt8]
    var mode: UInt32
    var uid: UInt32
    var gid: UInt32
    /// Bytes of data that follow the header (padded to whole blocks).
    var size: UInt64
    var mtime: Int64
    var typeflag: UInt8
    var linkName: [UInt8]
    var user: [UInt8]
    var group: [UInt8]
    var deviceMajor: UInt32
    var deviceMinor: UInt32
    /// GNU headers only.
    var atime: Int64?
    var ctime: Int64?
    /// An old GNU sparse header (`S`): the segments in this block, whether extension
    /// blocks follow, and the real size.
    var sparse: [TarSparseSegment] = []
    var sparseExtended = false
    var realSize: UInt64 = 0

    /// Whether `block` is all zeros (the end of the archive).
    static func isZero(_ block: [UInt8]) -> Bool { !block.contains { $0 != 0 } }

    /// Decodes a header block that is not all zeros.
    ///
    /// - Throws: `TarProblem` for a wrong checksum or a malformed number.
    init(_ block: [UInt8]) throws(TarProblem) {
        precondition(block.count == Self.blockSize)
        let stored = try? Self.number(block[148..<156], "checksum")
        var unsigned: Int64 = 0, signed: Int64 = 0
        for (i, byte) in block.enumerated() {
            let b = (148..<156).contains(i) ? UInt8(ascii: " ") : byte
            unsigned += Int64(b)
            signed += Int64(Int8(bitPattern: b))
        }
        guard stored == unsigned || stored == signed else {
            throw TarProblem("bad header checksum (not a tar stream, or a damaged one)")
        }
        let magic = Array(block[257..<263])
        let isGNU = magic == Array("ustar ".utf8) && block[263] == UInt8(ascii: " ")
        let isUstar = magic == Array("ustar\0".utf8)

        name = Self.string(block[0..<100])
        if isUstar {
            let prefix = Self.string(block[345..<500])
            if !prefix.isEmpty { name = prefix + [UInt8(ascii: "/")] + name }
        }
        // Only the permission bits: writers that put their own file-type bits above them (Go's
        // archive/tar given an fs.FileMode) still give usable permissions.
        mode = UInt32(try Self.number(block[100..<108], "mode") & 0o7777)
        uid = UInt32(try Self.number(block[108..<116], "uid", max: Int64(UInt32.max)))
        gid = UInt32(try Self.number(block[116..<124], "gid", max: Int64(UInt32.max)))
        size = UInt64(try Self.number(block[124..<136], "size"))
        mtime = try Self.number(block[136..<148], "mtime", min: Int64.min)
        typeflag = block[156]
        linkName = Self.string(block[157..<257])
        if isUstar || isGNU {
            user = Self.string(block[265..<297])
            group = Self.string(block[297..<329])
            deviceMajor = UInt32(try Self.number(block[329..<337], "devmajor", max: Int64(UInt32.max)))
            deviceMinor = UInt32(try Self.number(block[337..<345], "devminor", max: Int64(UInt32.max)))
        } else {
            user = []; group = []; deviceMajor = 0; deviceMinor = 0
        }
        if isGNU {
            let a = try Self.number(block[345..<357], "atime", min: Int64.min)
            let c = try Self.number(block[357..<369], "ctime", min: Int64.min)
            atime = a == 0 ? nil : a
            ctime = c == 0 ? nil : c
            if typeflag == UInt8(ascii: "S") {
                sparse = try Self.sparseSegments(block[386..<482], count: 4)
                sparseExtended = block[482] != 0
                realSize = UInt64(try Self.number(block[483..<495], "realsize"))
            }
        }
    }

    /// The segments of an old GNU sparse map: `count` pairs of 12-byte numbers, ended early
    /// by an empty pair.
    static func sparseSegments(_ bytes: ArraySlice<UInt8>, count: Int) throws(TarProblem) -> [TarSparseSegment] {
        var segments: [TarSparseSegment] = []
        var at = bytes.startIndex
        for _ in 0..<count {
            if bytes[at] == 0 { break }
            let offset = try number(bytes[at..<at + 12], "sparse offset")
            let length = try number(bytes[at + 12..<at + 24], "sparse length")
            segments.append(TarSparseSegment(offset: UInt64(offset), length: UInt64(length)))
            at += 24
        }
        return segments
    }

    /// The bytes of a NUL-terminated (or full) field.
    static func string(_ field: ArraySlice<UInt8>) -> [UInt8] {
        Array(field.prefix { $0 != 0 })
    }

    /// A numeric field: octal digits (leading spaces or NULs, ended by a space or NUL), or
    /// GNU's base-256 form (first byte 0x80 for positive, 0xff for negative numbers); an
    /// empty field is 0.
    static func number(_ field: ArraySlice<UInt8>, _ name: String, min: Int64 = 0, max: Int64 = Int64.max) throws(TarProblem) -> Int64 {
        guard let first = field.first else { return 0 }
        var value: Int64
        if first & 0x80 != 0 {
            guard first == 0x80 || first == 0xff else { throw TarProblem("malformed \(name) field") }
            // Two's complement over the whole field, with the marker bits as the sign.
            let negative = first == 0xff
            var magnitude: UInt64 = 0
            for (i, byte) in field.enumerated() {
                let b = negative ? ~byte : (i == 0 ? byte & 0x7f : byte)
                guard magnitude >> 56 == 0 else { throw TarProblem("\(name) field out of range") }
                magnitude = magnitude << 8 | UInt64(b)
            }
            guard magnitude <= UInt64(Int64.max) else { throw TarProblem("\(name) field out of range") }
            value = negative ? -Int64(magnitude) - 1 : Int64(magnitude)
        } else {
            var i = field.startIndex
            while i < field.endIndex, field[i] == UInt8(ascii: " ") || field[i] == 0 { i += 1 }
            value = 0
            while i < field.endIndex, field[i] >= UInt8(ascii: "0"), field[i] <= UInt8(ascii: "7") {
                guard value >> 60 == 0 else { throw TarProblem("\(name) field out of range") }
                value = value << 3 | Int64(field[i] - UInt8(ascii: "0"))
                i += 1
            }
            guard field[i...].allSatisfy({ $0 == UInt8(ascii: " ") || $0 == 0 }) else {
                throw TarProblem("malformed \(name) field")
            }
        }
        guard value >= min, value <= max else { throw TarProblem("\(name) field out of range") }
        return value
    }
}
