#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// This host's user and group database, each question asked once: a backup names the
/// owner of every entry, a restore maps every name back to an ID. Thread-safe.
final class UserDatabase: Sendable {
    private let userNames = LookupCache<UInt32, String>()
    private let groupNames = LookupCache<UInt32, String>()
    private let userIDs = LookupCache<String, UInt32?>()
    private let groupIDs = LookupCache<String, UInt32?>()

    /// The name of user `uid`; empty when the host has none.
    func userName(_ uid: UInt32) -> String {
        userNames.value(for: uid) { uid in
            Self.lookUp(passwd(), { getpwuid_r(uid, &$0, $1, $2, &$3) }, read: { String(cString: $0.pw_name) }) ?? ""
        }
    }

    /// The name of group `gid`; empty when the host has none.
    func groupName(_ gid: UInt32) -> String {
        groupNames.value(for: gid) { gid in
            Self.lookUp(group(), { getgrgid_r(gid, &$0, $1, $2, &$3) }, read: { String(cString: $0.gr_name) }) ?? ""
        }
    }

    /// The ID of the user called `name` on this host, if any.
    func userID(named name: String) -> UInt32? {
        guard !name.isEmpty else { return nil }
        return userIDs.value(for: name) { name in Self.lookUp(passwd(), { getpwnam_r(name, &$0, $1, $2, &$3) }, read: \.pw_uid) }
    }

    /// The ID of the group called `name` on this host, if any.
    func groupID(named name: String) -> UInt32? {
        guard !name.isEmpty else { return nil }
        return groupIDs.value(for: name) { name in Self.lookUp(group(), { getgrnam_r(name, &$0, $1, $2, &$3) }, read: \.gr_gid) }
    }

    /// Calls a reentrant `get…_r` function with a record and a buffer, and reads what is
    /// wanted from the record while the buffer its strings point into is alive; `nil` when
    /// the host has no such entry.
    private static func lookUp<Record, Answer>(
        _ empty: Record,
        _ call: (inout Record, UnsafeMutablePointer<CChar>, Int, inout UnsafeMutablePointer<Record>?) -> Int32,
        read: (Record) -> Answer
    ) -> Answer? {
        var record = empty
        var found: UnsafeMutablePointer<Record>?
        var buffer = [CChar](repeating: 0, count: 4096)
        return buffer.withUnsafeMutableBufferPointer { chars in
            // The buffer is 4096 characters, so its base address is not nil.
            call(&record, chars.baseAddress!, chars.count, &found) == 0 && found != nil ? read(record) : nil
        }
    }
}

/// Answers of a slow look-up, each key looked up once. Thread-safe.
final class LookupCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let known = Mutex<[Key: Value]>([:])

    func value(for key: Key, lookUp: (Key) -> Value) -> Value {
        if let value = known.withLock({ $0[key] }) { return value }
        let value = lookUp(key)
        known.withLock { $0[key] = value }
        return value
    }
}
