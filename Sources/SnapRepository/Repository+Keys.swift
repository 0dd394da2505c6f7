import SnapCore
import SnapCrypto
import SnapStorage

/// One key file, as `snap key list` shows it.
public struct KeySummary: Sendable, Encodable {
    public let id: KeyID
    public let created: String
    public let hostname: String
    public let username: String
    public let cost: Scrypt.Parameters?
    /// The key file that opened this repository.
    public let current: Bool
    /// Why the file could not be read as a key file, when it could not.
    public let problem: String?

    /// `hostName` and `userName` are restic's names for `hostname` and `username`, given
    /// too so that a script written for `restic key list --json` reads them.
    enum CodingKeys: String, CodingKey { case id, created, hostname, username, hostName, userName, current, problem, n, r, p }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id.hex, forKey: .id)
        try c.encode(created, forKey: .created)
        try c.encode(hostname, forKey: .hostname)
        try c.encode(username, forKey: .username)
        try c.encode(hostname, forKey: .hostName)
        try c.encode(username, forKey: .userName)
        try c.encode(current, forKey: .current)
        try c.encodeIfPresent(problem, forKey: .problem)
        try c.encodeIfPresent(cost?.n, forKey: .n)
        try c.encodeIfPresent(cost?.r, forKey: .r)
        try c.encodeIfPresent(cost?.p, forKey: .p)
    }
}

/// Why a key change was refused.
public enum KeyChangeError: Error, CustomStringConvertible {
    case notFound(String)
    case ambiguous(String, matches: Int)
    case removingCurrent(KeyID)
    case removingLast(KeyID)

    public var description: String {
        switch self {
        case let .notFound(text): return "no key file matches '\(text)' (see 'snap key list')"
        case let .ambiguous(text, matches): return "'\(text)' matches \(matches) key files; give more of the ID"
        case let .removingCurrent(id):
            return "key \(id.short) is the one this command opened the repository with; open it with another key's password to remove it"
        case let .removingLast(id): return "key \(id.short) is the only key that opens the repository; add another first ('snap key add')"
        }
    }
}

extension Repository {
    /// Every file in `keys/`, by creation time. Files that are not key files are listed with
    /// the problem, so that `key remove` can take them away too.
    public func listKeys() throws -> [KeySummary] {
        var result: [KeySummary] = []
        for info in try backend.list(.keys) {
            guard let id = KeyID(hex: info.file.name) else { continue }
            do {
                // The checks `open` makes before it would run scrypt: a file it skips is listed as not usable.
                let bytes = try backend.read(info.file)
                guard SHA256.hash(bytes) == Hex.decode(info.file.name) else {
                    throw RepositoryError.damaged(file: info.file.description, reason: "content does not match its name")
                }
                let key = try KeyFile.decode(bytes, name: info.file.name)
                try key.validate()
                result.append(KeySummary(id: id, created: key.created, hostname: key.hostname, username: key.username,
                                         cost: key.cost, current: id == keyID, problem: nil))
            } catch StorageError.notFound {
                continue
            } catch {
                result.append(KeySummary(id: id, created: "", hostname: "", username: "", cost: nil, current: id == keyID,
                                         problem: "\(error)"))
            }
        }
        return result.sorted { ($0.created, $0.id.hex) < ($1.created, $1.id.hex) }
    }

    /// The key file whose ID is `text` or starts with it.
    public func findKey(_ text: String) throws -> KeySummary {
        let matches = try listKeys().filter { $0.id.hex.hasPrefix(text.lowercased()) }
        guard !text.isEmpty, let first = matches.first else { throw KeyChangeError.notFound(text) }
        guard matches.count == 1 else { throw KeyChangeError.ambiguous(text, matches: matches.count) }
        return first
    }

    /// Removes a key file. Refuses the key this repository was opened with, and the last key
    /// file that is a usable key, so that the repository can always be opened afterwards.
    public func removeKey(_ id: KeyID) throws {
        // The last usable key first: for the only key, "open it with another key" could not be followed.
        let usable = try listKeys().filter { $0.problem == nil }
        if usable.map(\.id) == [id] { throw KeyChangeError.removingLast(id) }
        guard id != keyID else { throw KeyChangeError.removingCurrent(id) }
        try backend.delete(FileName(.keys, id.hex))
    }

    /// Removes the file of `keys/` named exactly `name` when that name is not a key ID: a
    /// file snap never wrote and could never use, about which every command warns. Returns
    /// whether there was one.
    public func removeStrayKeyFile(named name: String) throws -> Bool {
        guard KeyID(hex: name) == nil, try backend.list(.keys).contains(where: { $0.file.name == name }) else { return false }
        try backend.delete(FileName(.keys, name))
        return true
    }

    /// Replaces the password of the key this repository was opened with: writes a new key
    /// file for `password`, then removes the old one. Killed in between, both keys work;
    /// the new key is never missing while the old one is gone.
    ///
    /// - Returns: the new key's ID.
    public func changePassword(to password: String, cost: Scrypt.Parameters = KeyFile.defaultCost,
                               hostname: String, username: String, now: String) throws -> KeyID {
        let new = try addKey(password: password, cost: cost, hostname: hostname, username: username, now: now)
        if let old = keyID, old != new { try backend.delete(FileName(.keys, old.hex)) }
        return new
    }
}
