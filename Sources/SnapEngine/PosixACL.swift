/// A POSIX.1e access control list, as Linux keeps it in the `system.posix_acl_access` and
/// `system.posix_acl_default` extended attributes and as tar archives carry it in text
/// (`SCHILY.acl.access`, `SCHILY.acl.default`).
///
/// Snapshots store the attributes' bytes as the kernel gives them (restic does the same), so
/// `restore` writes them back unchanged. A tar archive needs the text form: GNU tar and
/// bsdtar do not set `system.*` attributes from `SCHILY.xattr.*` records, and without the ACL
/// the group bits of the mode, which hold the ACL's mask, would become the owning group's
/// rights. The conversion is written here because the two forms are a few fixed fields and
/// libacl is not linked (its `acl_to_text` would also look names up in this machine's
/// user database, where the numbers of the machine backed up are the ones that hold).
///
/// Binary form (linux/posix_acl_xattr.h): a little-endian 32-bit version (2), then entries
/// of 8 bytes: tag (16 bits), permissions (16 bits: 4 read, 2 write, 1 execute), ID (32 bits,
/// meaningful for named users and groups only). Text form (acl(5), long form with numeric
/// qualifiers): `user::rw-,user:1001:r--,group::r-x,mask::r-x,other::---`.
public struct PosixACL: Equatable, Sendable {
    public enum Tag: UInt16, Sendable {
        case owner = 0x01, user = 0x02, owningGroup = 0x04, group = 0x08, mask = 0x10, other = 0x20
    }

    public struct Entry: Equatable, Sendable {
        public var tag: Tag
        /// Read 4, write 2, execute 1.
        public var permissions: UInt16
        /// The user or group number of a `.user` or `.group` entry; nil for the others.
        public var id: UInt32?

        public init(tag: Tag, permissions: UInt16, id: UInt32? = nil) {
            self.tag = tag; self.permissions = permissions; self.id = id
        }
    }

    public var entries: [Entry]

    public init(entries: [Entry]) { self.entries = entries }

    /// The names of the two attributes that hold ACLs, and the pax keys that carry them.
    public static let accessAttribute = Array("system.posix_acl_access".utf8)
    public static let defaultAttribute = Array("system.posix_acl_default".utf8)
    public static let accessPaxKey = "SCHILY.acl.access"
    public static let defaultPaxKey = "SCHILY.acl.default"

    private static let version: UInt32 = 2
    private static let undefinedID = UInt32.max

    /// Decodes an attribute's value; nil when it is not a well-formed ACL of version 2.
    public init?(attribute bytes: [UInt8]) {
        guard bytes.count >= 4, (bytes.count - 4) % 8 == 0 else { return nil }
        func u16(_ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
        func u32(_ at: Int) -> UInt32 { UInt32(u16(at)) | UInt32(u16(at + 2)) << 16 }
        guard u32(0) == Self.version else { return nil }
        var entries: [Entry] = []
        for at in stride(from: 4, to: bytes.count, by: 8) {
            guard let tag = Tag(rawValue: u16(at)), u16(at + 2) & ~0o7 == 0 else { return nil }
            let named = tag == .user || tag == .group
            entries.append(Entry(tag: tag, permissions: u16(at + 2), id: named ? u32(at + 4) : nil))
        }
        self.entries = entries
    }

    /// The attribute's value, as the kernel takes it.
    public var attribute: [UInt8] {
        var bytes: [UInt8] = []
        func put16(_ v: UInt16) { bytes += [UInt8(v & 0xff), UInt8(v >> 8)] }
        func put32(_ v: UInt32) { put16(UInt16(v & 0xffff)); put16(UInt16(v >> 16)) }
        put32(Self.version)
        for e in entries {
            put16(e.tag.rawValue)
            put16(e.permissions)
            put32(e.id ?? Self.undefinedID)
        }
        return bytes
    }

    /// The text form, entries separated by commas, users and groups by number.
    public var text: String {
        entries.map { e in
            let name: String
            switch e.tag {
            case .owner, .user: name = "user"
            case .owningGroup, .group: name = "group"
            case .mask: name = "mask"
            case .other: name = "other"
            }
            let p = e.permissions
            let rights = (p & 4 != 0 ? "r" : "-") + (p & 2 != 0 ? "w" : "-") + (p & 1 != 0 ? "x" : "-")
            return "\(name):\(e.id.map(String.init) ?? ""):\(rights)"
        }.joined(separator: ",")
    }

    /// Parses the text form as tar archives carry it: entries separated by commas or line
    /// ends, `#` comments, tags in full or by their first letter, permissions as `rwx`/`-`
    /// letters, and star's fourth field (the number after a name). A named user or group
    /// is taken by number (the fourth field, else a numeric second field), else by looking
    /// its name up with `userID`/`groupID`, as tar looks names up when it extracts. Nil when
    /// the text is not such an ACL, or names someone the lookups do not know.
    public init?(text: String, userID: (String) -> UInt32? = { _ in nil }, groupID: (String) -> UInt32? = { _ in nil }) {
        var entries: [Entry] = []
        for line in text.split(whereSeparator: { $0 == "," || $0 == "\n" }) {
            // Blanks carry no meaning in an entry (GNU tar puts a tab before its comments).
            let entry = line.prefix { $0 != "#" }.filter { $0 != " " && $0 != "\t" }
            if entry.isEmpty { continue }
            let fields = entry.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 3 || fields.count == 4 else { return nil }
            var permissions: UInt16 = 0
            for c in fields[2] {
                switch c {
                case "r": permissions |= 4
                case "w": permissions |= 2
                case "x": permissions |= 1
                case "-": break
                default: return nil
                }
            }
            let named = !fields[1].isEmpty
            let number = fields.count == 4 ? UInt32(fields[3]) : UInt32(fields[1])
            let tag: Tag
            var id: UInt32?
            switch fields[0] {
            case "user", "u":
                tag = named ? .user : .owner
                if named { id = number ?? userID(fields[1]) }
            case "group", "g":
                tag = named ? .group : .owningGroup
                if named { id = number ?? groupID(fields[1]) }
            case "mask", "m": guard !named else { return nil }; tag = .mask
            case "other", "o": guard !named else { return nil }; tag = .other
            default: return nil
            }
            if named && id == nil { return nil }
            entries.append(Entry(tag: tag, permissions: permissions, id: id))
        }
        guard !entries.isEmpty else { return nil }
        // The kernel takes entries in tag order, named ones by number.
        self.entries = entries.sorted { ($0.tag.rawValue, $0.id ?? 0) < ($1.tag.rawValue, $1.id ?? 0) }
    }
}
