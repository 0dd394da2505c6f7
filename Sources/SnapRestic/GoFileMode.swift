/// Go's `os.FileMode`, as restic keeps a node's mode in its trees and prints it in its JSON:
/// the nine permission bits, with the type and the set-user-ID, set-group-ID and sticky
/// bits as flags of their own high up. Read when importing restic's trees; written where
/// snap's JSON speaks restic's (`ls --json`).
public struct GoFileMode: Sendable, Equatable {
    public let value: UInt32

    public static let directory: UInt32 = 1 << 31, symlink: UInt32 = 1 << 27, device: UInt32 = 1 << 26
    public static let namedPipe: UInt32 = 1 << 25, socket: UInt32 = 1 << 24, characterDevice: UInt32 = 1 << 21
    static let setuid: UInt32 = 1 << 23, setgid: UInt32 = 1 << 22, sticky: UInt32 = 1 << 20

    public init(value: UInt32) { self.value = value }

    /// POSIX permission bits (`0o7777`) and type flags (`directory`, `symlink`, …) as one mode.
    public init(permissions: UInt32, typeFlags: UInt32) {
        var v = permissions & 0o777 | typeFlags
        if permissions & 0o4000 != 0 { v |= Self.setuid }
        if permissions & 0o2000 != 0 { v |= Self.setgid }
        if permissions & 0o1000 != 0 { v |= Self.sticky }
        value = v
    }

    /// The POSIX permission bits: the low nine, and set-user-ID, set-group-ID and sticky.
    public var posixPermissions: UInt32 {
        var bits = value & 0o777
        if value & Self.setuid != 0 { bits |= 0o4000 }
        if value & Self.setgid != 0 { bits |= 0o2000 }
        if value & Self.sticky != 0 { bits |= 0o1000 }
        return bits
    }

    /// Go's `FileMode.String`: a letter for each flag set, highest bit first (`dalTLDpSugct?`
    /// for bits 31 to 19), or `-` when none is, then `rwxrwxrwx` with `-` for bits not set.
    public var text: String {
        var s = ""
        for (i, letter) in "dalTLDpSugct?".enumerated() where value & (1 << UInt32(31 - i)) != 0 { s.append(letter) }
        if s.isEmpty { s = "-" }
        for (i, letter) in "rwxrwxrwx".enumerated() { s.append(value & (1 << UInt32(8 - i)) != 0 ? letter : "-") }
        return s
    }
}
