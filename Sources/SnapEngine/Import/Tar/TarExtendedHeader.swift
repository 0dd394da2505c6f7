import SnapCore

/// The values that extended headers (PAX `x` and `g` records, GNU `L`/`K` long names)
/// set for the next member, overriding its header block's.
struct TarExtendedHeader {
    var path: [UInt8]?
    var linkPath: [UInt8]?
    var size: UInt64?
    var uid: UInt32?
    var gid: UInt32?
    var user: [UInt8]?
    var group: [UInt8]?
    var mtime: Timestamp?
    var atime: Timestamp?
    var ctime: Timestamp?
    var deviceMajor: UInt32?
    var deviceMinor: UInt32?
    var xattrs: [[UInt8]: [UInt8]] = [:]
    /// The `SCHILY.acl.*` records that could not be read as ACLs (left out, with a warning).
    var unreadableACLs: [String] = []
    /// GNU sparse files in PAX archives (formats 0.0, 0.1 and 1.0).
    var sparseName: [UInt8]?
    var sparseSize: UInt64?
    var sparseMajor: UInt64?
    /// Offsets and lengths, alternating (0.0: one record each; 0.1: `GNU.sparse.map`).
    var sparseMap: [UInt64] = []
    /// Names in ACLs are looked up here, as tar looks them up when it extracts.
    private static let users = UserDatabase()
    /// Most sparse segments one member may have (16 bytes each in memory).
    static let maxSparseSegments = 1 << 20

    /// Whether any GNU sparse key was given.
    var isSparse: Bool { sparseSize != nil || sparseMajor != nil || !sparseMap.isEmpty }

    /// The records of a PAX extended header: `LENGTH KEY=VALUE\n`, LENGTH counting the
    /// whole record in decimal. Values are raw bytes (a binary xattr value may hold any).
    static func records(_ data: [UInt8]) throws(TarProblem) -> [(key: [UInt8], value: [UInt8])] {
        var records: [(key: [UInt8], value: [UInt8])] = []
        var at = 0
        while at < data.count {
            // Trailing NUL padding after the last record is tolerated.
            if data[at] == 0, data[at...].allSatisfy({ $0 == 0 }) { break }
            var length = 0, i = at
            while i < data.count, i - at < 10, data[i] >= UInt8(ascii: "0"), data[i] <= UInt8(ascii: "9") {
                length = length * 10 + Int(data[i] - UInt8(ascii: "0"))
                i += 1
            }
            guard i > at, i < data.count, data[i] == UInt8(ascii: " "), length > i - at + 1,
                  length <= data.count - at, data[at + length - 1] == UInt8(ascii: "\n") else {
                throw TarProblem("malformed PAX record at byte \(at) of its extended header")
            }
            let body = data[(i + 1)..<(at + length - 1)]
            guard let equals = body.firstIndex(of: UInt8(ascii: "=")), equals > body.startIndex else {
                throw TarProblem("PAX record without a key at byte \(at) of its extended header")
            }
            records.append((Array(body[..<equals]), Array(body[(equals + 1)...])))
            at += length
        }
        return records
    }

    /// Applies one record; an empty value leaves the header block's value in force.
    mutating func apply(key: [UInt8], value: [UInt8]) throws(TarProblem) {
        let name = String(decoding: key, as: UTF8.self)
        if value.isEmpty && !name.hasPrefix("SCHILY.xattr.") && !name.hasPrefix("LIBARCHIVE.xattr.") { return }
        switch name {
        case "path": path = value
        case "linkpath": linkPath = value
        case "size": size = try Self.decimal(value, name)
        case "uid": uid = UInt32(try Self.decimal(value, name, max: UInt64(UInt32.max)))
        case "gid": gid = UInt32(try Self.decimal(value, name, max: UInt64(UInt32.max)))
        case "uname": user = value
        case "gname": group = value
        case "mtime": mtime = try Self.time(value, name)
        case "atime": atime = try Self.time(value, name)
        case "ctime": ctime = try Self.time(value, name)
        case "SCHILY.devmajor": deviceMajor = UInt32(try Self.decimal(value, name, max: UInt64(UInt32.max)))
        case "SCHILY.devminor": deviceMinor = UInt32(try Self.decimal(value, name, max: UInt64(UInt32.max)))
        case PosixACL.accessPaxKey, PosixACL.defaultPaxKey:
            // The text form (GNU tar, bsdtar, star, restic's dump) as the attribute the
            // kernel keeps, which is what a backup stores (`PosixACL`).
            let attribute = name == PosixACL.accessPaxKey ? PosixACL.accessAttribute : PosixACL.defaultAttribute
            if let acl = PosixACL(text: String(decoding: value, as: UTF8.self),
                                  userID: Self.users.userID(named:), groupID: Self.users.groupID(named:)) {
                xattrs[attribute] = acl.attribute
            } else {
                unreadableACLs.append(name)
            }
        case "GNU.sparse.name": sparseName = value
        case "GNU.sparse.size", "GNU.sparse.realsize": sparseSize = try Self.decimal(value, name)
        case "GNU.sparse.major": sparseMajor = try Self.decimal(value, name)
        case "GNU.sparse.offset", "GNU.sparse.numbytes":
            // Format 0.0: offset and numbytes records alternate, in file order.
            guard (name == "GNU.sparse.offset") == sparseMap.count.isMultiple(of: 2) else {
                throw TarProblem("GNU.sparse.offset and GNU.sparse.numbytes records do not alternate")
            }
            guard sparseMap.count < 2 * Self.maxSparseSegments else { throw TarProblem("more than \(Self.maxSparseSegments) sparse segments") }
            sparseMap.append(try Self.decimal(value, name))
        case "GNU.sparse.map":
            let parts = value.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
            guard parts.count.isMultiple(of: 2) else { throw TarProblem("GNU.sparse.map has an odd number of values") }
            guard parts.count <= 2 * Self.maxSparseSegments else { throw TarProblem("more than \(Self.maxSparseSegments) sparse segments") }
            sparseMap = []
            for part in parts { sparseMap.append(try Self.decimal(Array(part), name)) }
        default:
            if name.hasPrefix("SCHILY.xattr.") {
                let attribute = Self.xattrName(key.dropFirst("SCHILY.xattr.".utf8.count))
                guard !attribute.isEmpty else { throw TarProblem("\(name): empty attribute name") }
                xattrs[attribute] = value
            } else if name.hasPrefix("LIBARCHIVE.xattr.") {
                guard let attribute = Self.percentDecoded(key.dropFirst("LIBARCHIVE.xattr.".utf8.count)), !attribute.isEmpty,
                      let decoded = Base64.decode(value) else {
                    throw TarProblem("\(name.prefix(200)): malformed name or base64 value")
                }
                xattrs[attribute] = decoded
            }
            // Other keys (comment, charset, SCHILY.dev/ino/nlink, atime of GNU.dumpdir…) do not change what is stored.
        }
    }

    /// A `SCHILY.xattr.` keyword's attribute name: GNU tar writes `%` as `%25` and `=` as
    /// `%3D` (a keyword cannot hold `=`); other `%` sequences are taken as they are, as GNU tar
    /// takes them.
    static func xattrName(_ keyword: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        var i = keyword.startIndex
        while i < keyword.endIndex {
            if keyword[i] == UInt8(ascii: "%"), keyword.endIndex - i >= 3 {
                let code = String(decoding: keyword[(i + 1)...(i + 2)], as: UTF8.self).uppercased()
                if code == "25" || code == "3D" {
                    out.append(code == "25" ? UInt8(ascii: "%") : UInt8(ascii: "="))
                    i += 3
                    continue
                }
            }
            out.append(keyword[i])
            i += 1
        }
        return out
    }

    /// A decimal number with no sign, at most `max`.
    static func decimal(_ bytes: [UInt8], _ name: String, max: UInt64 = UInt64(Int64.max)) throws(TarProblem) -> UInt64 {
        guard !bytes.isEmpty, bytes.count <= 20 else { throw TarProblem("\(name): not a number") }
        var value: UInt64 = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { throw TarProblem("\(name): not a number") }
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            guard !o1, !o2 else { throw TarProblem("\(name): out of range") }
            value = sum
        }
        guard value <= max else { throw TarProblem("\(name): out of range") }
        return value
    }

    /// A PAX time, `[-]SECONDS[.FRACTION]`; digits beyond nanoseconds are dropped.
    static func time(_ bytes: [UInt8], _ name: String) throws(TarProblem) -> Timestamp {
        var digits = bytes[...]
        let negative = digits.first == UInt8(ascii: "-")
        if negative { digits = digits.dropFirst() }
        let dot = digits.firstIndex(of: UInt8(ascii: ".")) ?? digits.endIndex
        let whole = try decimal(Array(digits[..<dot]), name)
        var fraction = dot < digits.endIndex ? Array(digits[(dot + 1)...]) : []
        guard fraction.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { throw TarProblem("\(name): not a time") }
        fraction = Array((fraction + Array(repeating: UInt8(ascii: "0"), count: 9)).prefix(9))
        let nanoseconds = UInt32(try decimal(fraction, name))
        guard whole < UInt64(Int64.max) else { throw TarProblem("\(name): out of range") }
        if !negative { return Timestamp(seconds: Int64(whole), nanoseconds: nanoseconds) }
        // -1.25 is 1.25 s before the epoch: seconds -2, nanoseconds 750 000 000.
        return nanoseconds == 0 ? Timestamp(seconds: -Int64(whole), nanoseconds: 0)
            : Timestamp(seconds: -Int64(whole) - 1, nanoseconds: 1_000_000_000 - nanoseconds)
    }

    /// `%XX` escapes decoded (libarchive's xattr names); `nil` for a broken escape.
    static func percentDecoded(_ bytes: ArraySlice<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        var i = bytes.startIndex
        while i < bytes.endIndex {
            if bytes[i] == UInt8(ascii: "%") {
                guard i + 2 < bytes.endIndex, let high = Base64.hexValue(bytes[i + 1]), let low = Base64.hexValue(bytes[i + 2]) else { return nil }
                out.append(high << 4 | low)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return out
    }
}

/// Standard base64 (RFC 4648), padding optional, as libarchive writes xattr values.
enum Base64 {
    static func decode(_ text: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.count / 4 * 3 + 2)
        var accumulator: UInt32 = 0, bits = 0
        var padding = false
        for c in text {
            if c == UInt8(ascii: "=") { padding = true; continue }
            guard !padding, let v = sextet(c) else { return nil }
            accumulator = accumulator << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return bits >= 6 ? nil : out  // a lone sextet cannot end a valid encoding
    }

    private static func sextet(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return c - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return c - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): return 62
        case UInt8(ascii: "/"): return 63
        default: return nil
        }
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
