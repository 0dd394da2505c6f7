/// Writes a POSIX.1-2001 (pax) tar stream: a ustar header for every entry, preceded by a
/// pax extended header that carries what ustar cannot: the exact path and link target as
/// raw bytes (`hdrcharset=BINARY` when they are not UTF-8), the modification time with
/// nanoseconds, sizes and IDs beyond ustar's fields, extended attributes
/// (`SCHILY.xattr.NAME`, as GNU tar and bsdtar read them) and POSIX ACLs
/// (`SCHILY.acl.access`/`.default`, in text, `PosixACL`).
///
/// Written here rather than through libarchive: snap links no libarchive, and the format
/// is a few fixed-size fields (pax, IEEE Std 1003.1-2001, "pax Interchange Format").
public struct TarWriter {
    public enum EntryType: UInt8 {
        case file = 0x30          // '0'
        case hardLink = 0x31      // '1'
        case symlink = 0x32       // '2'
        case characterDevice = 0x33
        case blockDevice = 0x34
        case directory = 0x35
        case fifo = 0x36
    }

    /// One entry's header fields.
    public struct Entry {
        public var path: [UInt8]
        public var type: EntryType
        public var mode: UInt32
        public var uid: UInt32, gid: UInt32
        public var user: String, group: String
        public var size: UInt64
        public var mtimeSeconds: Int64, mtimeNanoseconds: UInt32
        public var linkTarget: [UInt8] = []
        public var deviceMajor: UInt32 = 0, deviceMinor: UInt32 = 0
        public var xattrs: [(name: [UInt8], value: [UInt8])] = []

        public init(path: [UInt8], type: EntryType, mode: UInt32, uid: UInt32, gid: UInt32, user: String, group: String,
                    size: UInt64, mtimeSeconds: Int64, mtimeNanoseconds: UInt32) {
            self.path = path; self.type = type; self.mode = mode; self.uid = uid; self.gid = gid
            self.user = user; self.group = group; self.size = size
            self.mtimeSeconds = mtimeSeconds; self.mtimeNanoseconds = mtimeNanoseconds
        }
    }

    public static let blockSize = 512
    /// Where the stream goes; also takes a file's content between `begin` and `finishContent`.
    public let output: ([UInt8]) throws -> Void

    /// - Parameter output: receives the stream in pieces, in order.
    public init(output: @escaping ([UInt8]) throws -> Void) { self.output = output }

    /// Writes an entry's headers; a regular file's `size` bytes must follow (`output`, then
    /// `finishContent(size:)`).
    public func begin(_ entry: Entry) throws {
        try writeHeaders(entry, name: entry.path, sparse: [], memberSize: entry.type == .file ? entry.size : 0)
    }

    /// Writes a regular file with holes as a GNU sparse member, format 1.0 (GNU tar manual,
    /// "Sparse Formats", "PAX Format, Version 1.0"): the pax header carries
    /// `GNU.sparse.major=1`, `GNU.sparse.minor=0`, the real name (`GNU.sparse.name`) and size
    /// (`GNU.sparse.realsize`); the ustar name is `DIR/GNUSparseFile.0/NAME`, so that a tar
    /// without sparse support extracts the condensed form aside. The member's data starts
    /// with the sparse map (the number of regions, then each region's offset and length, as
    /// decimal lines, padded with zeros to a block), which this writes; the bytes of
    /// `regions`, in order and back to back, must follow, then `finishContent(size:)` with
    /// their total. A file that ends in a hole gets a last region of length 0 at its size, as
    /// GNU tar writes it, so that readers extend the file to its full length.
    ///
    /// - Parameters:
    ///   - entry: a `.file` entry; `size` is the real size.
    ///   - regions: the data regions, sorted, within `0..<entry.size`; everything else is a hole.
    public func beginSparse(_ entry: Entry, regions: [Range<UInt64>]) throws {
        var map = regions
        if map.last?.upperBound != entry.size { map.append(entry.size..<entry.size) }
        var text = "\(map.count)\n"
        for region in map { text += "\(region.lowerBound)\n\(UInt64(region.count))\n" }
        let block = Array(text.utf8) + padding(text.utf8.count)
        let data = regions.reduce(UInt64(0)) { $0 + UInt64($1.count) }
        let slash = entry.path.lastIndex(of: 0x2f)
        let folder = slash.map { Array(entry.path[..<$0]) } ?? [0x2e]
        let base = slash.map { Array(entry.path[($0 + 1)...]) } ?? entry.path
        let sparse: [([UInt8], [UInt8])] = [
            (Array("GNU.sparse.major".utf8), Array("1".utf8)),
            (Array("GNU.sparse.minor".utf8), Array("0".utf8)),
            (Array("GNU.sparse.name".utf8), entry.path),
            (Array("GNU.sparse.realsize".utf8), Array(String(entry.size).utf8)),
        ]
        try writeHeaders(entry, name: folder + Array("/GNUSparseFile.0/".utf8) + base, sparse: sparse,
                         memberSize: UInt64(block.count) + data)
        try output(block)
    }

    /// The pax header, then the ustar header named `name` with `memberSize` bytes to follow.
    private func writeHeaders(_ entry: Entry, name: [UInt8], sparse: [([UInt8], [UInt8])], memberSize: UInt64) throws {
        var records: [([UInt8], [UInt8])] = []
        let binary = String(validating: name, as: UTF8.self) == nil
            || String(validating: entry.linkTarget, as: UTF8.self) == nil
        if binary { records.append((Array("hdrcharset".utf8), Array("BINARY".utf8))) }
        records.append((Array("path".utf8), name))
        records += sparse
        if !entry.linkTarget.isEmpty { records.append((Array("linkpath".utf8), entry.linkTarget)) }
        records.append((Array("mtime".utf8), Array(Self.paxTime(seconds: entry.mtimeSeconds, nanoseconds: entry.mtimeNanoseconds).utf8)))
        if memberSize >= 1 << 33 { records.append((Array("size".utf8), Array(String(memberSize).utf8))) }
        if entry.uid >= 1 << 21 { records.append((Array("uid".utf8), Array(String(entry.uid).utf8))) }
        if entry.gid >= 1 << 21 { records.append((Array("gid".utf8), Array(String(entry.gid).utf8))) }
        if !entry.user.isEmpty { records.append((Array("uname".utf8), Array(entry.user.utf8))) }
        if !entry.group.isEmpty { records.append((Array("gname".utf8), Array(entry.group.utf8))) }
        for x in entry.xattrs {
            // ACLs in the text form tar tools set them from; an attribute that is no ACL
            // stays as it is.
            let key = x.name == PosixACL.accessAttribute ? PosixACL.accessPaxKey
                : x.name == PosixACL.defaultAttribute ? PosixACL.defaultPaxKey : nil
            if let key, let acl = PosixACL(attribute: x.value) {
                records.append((Array(key.utf8), Array(acl.text.utf8)))
            } else {
                records.append((Array("SCHILY.xattr.".utf8) + Self.xattrKeyword(x.name), x.value))
            }
        }
        let pax = records.flatMap(Self.record)
        try output(header(name: Array("PaxHeaders/entry".utf8), typeflag: 0x78, mode: 0o644, uid: 0, gid: 0, user: "", group: "",
                          size: UInt64(pax.count), mtime: max(0, entry.mtimeSeconds), link: [], major: 0, minor: 0))
        try output(pax + padding(pax.count))
        try output(header(name: Array(name.prefix(100)), typeflag: entry.type.rawValue, mode: entry.mode,
                          uid: entry.uid, gid: entry.gid, user: entry.user, group: entry.group, size: memberSize,
                          mtime: max(0, entry.mtimeSeconds), link: Array(entry.linkTarget.prefix(100)),
                          major: entry.deviceMajor, minor: entry.deviceMinor))
    }

    /// An attribute name as a pax keyword: `%` as `%25` and `=` as `%3D`, as GNU tar writes
    /// them, since a keyword ends at its first `=` (`user.a=b` would come back as `user.a`).
    static func xattrKeyword(_ name: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(name.count)
        for b in name {
            switch b {
            case UInt8(ascii: "%"): out += Array("%25".utf8)
            case UInt8(ascii: "="): out += Array("%3D".utf8)
            default: out.append(b)
            }
        }
        return out
    }

    /// The zero bytes that complete a file's content of `size` bytes to whole blocks.
    public func finishContent(size: UInt64) throws {
        let rest = Int(size % UInt64(Self.blockSize))
        if rest != 0 { try output([UInt8](repeating: 0, count: Self.blockSize - rest)) }
    }

    /// The end of the archive: two zero blocks.
    public func finish() throws { try output([UInt8](repeating: 0, count: 2 * Self.blockSize)) }

    /// A pax time value (`mtime`, `atime`, `ctime`): the decimal of `seconds + nanoseconds / 10⁹`,
    /// with nine digits after the point.
    ///
    /// A pax time's fraction carries the sign of the whole value (`-1.25` is 1.25 s before
    /// 1970), while a node's time is the second at or before it (`seconds`, rounded down)
    /// plus `nanoseconds`. So a time before 1970 with nanoseconds is written as the second
    /// after it, toward zero, and the rest of that second: seconds −1 with 999 999 999 ns is
    /// `-0.000000001`, not `-1.999999999`, which is nearly two seconds earlier.
    ///
    /// - Parameter nanoseconds: 0 ..< 1 000 000 000.
    static func paxTime(seconds: Int64, nanoseconds: UInt32) -> String {
        func nine(_ value: UInt32) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, 9 - digits.count)) + digits
        }
        guard seconds < 0, nanoseconds > 0 else { return "\(seconds).\(nine(nanoseconds))" }
        // -(seconds + 1) cannot overflow, even for Int64.min.
        return "-\(-(seconds + 1)).\(nine(1_000_000_000 - nanoseconds))"
    }

    /// One pax record, `LENGTH key=value\n`, where LENGTH counts the whole record.
    static func record(_ key: [UInt8], _ value: [UInt8]) -> [UInt8] {
        let body = key.count + value.count + 3  // space, '=', newline
        var length = body + String(body).count
        if String(length).count != String(body).count { length = body + String(length).count }
        return Array("\(length) ".utf8) + key + [0x3d] + value + [0x0a]
    }

    private func padding(_ count: Int) -> [UInt8] {
        let rest = count % Self.blockSize
        return rest == 0 ? [] : [UInt8](repeating: 0, count: Self.blockSize - rest)
    }

    private func header(name: [UInt8], typeflag: UInt8, mode: UInt32, uid: UInt32, gid: UInt32, user: String, group: String,
                        size: UInt64, mtime: Int64, link: [UInt8], major: UInt32, minor: UInt32) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: Self.blockSize)
        func put(_ bytes: [UInt8], at offset: Int, width: Int) {
            for (i, b) in bytes.prefix(width).enumerated() { h[offset + i] = b }
        }
        func octal(_ value: UInt64, at offset: Int, width: Int) {
            // width − 1 digits and a NUL; values too large for it are in the pax header.
            let limit: UInt64 = 1 << (3 * UInt64(width - 1))
            let digits = String(min(value, limit - 1), radix: 8)
            put(Array((String(repeating: "0", count: width - 1 - digits.count) + digits).utf8), at: offset, width: width - 1)
        }
        put(name, at: 0, width: 100)
        octal(UInt64(mode & 0o7777), at: 100, width: 8)
        octal(UInt64(uid), at: 108, width: 8)
        octal(UInt64(gid), at: 116, width: 8)
        octal(size, at: 124, width: 12)
        octal(UInt64(mtime), at: 136, width: 12)
        h[156] = typeflag
        put(link, at: 157, width: 100)
        put(Array("ustar".utf8) + [0], at: 257, width: 6)
        put(Array("00".utf8), at: 263, width: 2)
        put(Array(user.utf8), at: 265, width: 31)
        put(Array(group.utf8), at: 297, width: 31)
        octal(UInt64(major), at: 329, width: 8)
        octal(UInt64(minor), at: 337, width: 8)
        // Checksum: the sum of all bytes with the checksum field as spaces, 6 octal digits, NUL, space.
        for i in 148..<156 { h[i] = 0x20 }
        let sum = h.reduce(0) { $0 + Int($1) }
        let digits = String(sum, radix: 8)
        put(Array((String(repeating: "0", count: 6 - digits.count) + digits).utf8) + [0, 0x20], at: 148, width: 8)
        return h
    }
}
