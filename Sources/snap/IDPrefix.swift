import SnapCore

/// What a user typed for a repository object (a pack, an index file, a tree): a full ID or
/// its first hex digits, as `check` and `list` show them.
enum IDPrefix {
    /// The one ID among `ids` that `typed` names. A full ID that `parse` reads is taken as
    /// it is, listed or not, when `parse` is given.
    ///
    /// - Parameters:
    ///   - what: the kind of object, for the messages ("pack").
    ///   - notFound: the message when no ID starts with it (default "no WHAT TYPED").
    ///   - ambiguous: the message when several do, given their count.
    static func resolve<T: TypedID>(_ typed: String, in ids: [T], what: String, notFound: String? = nil,
                                    ambiguous: ((Int) -> String)? = nil, parse: ((String) -> T?)? = nil) throws -> T {
        if let exact = parse?(typed) { return exact }
        let prefix = typed.lowercased()
        let matches = prefix.allSatisfy(\.isHexDigit) ? ids.filter { $0.hex.hasPrefix(prefix) } : []
        guard matches.count == 1, let match = matches.first else {
            if matches.isEmpty { throw CLIError(notFound ?? "no \(what) \(typed)") }
            throw CLIError(ambiguous?(matches.count) ?? "'\(typed)' matches \(matches.count) objects; give more digits")
        }
        return match
    }
}
