import SnapCrypto

/// The restored first names of hard-linked files, so that their further names are
/// restored as links to them.
///
/// A first name restored in its own place is remembered by a 128-bit digest of its
/// snapshot path alone (its target is the restore target followed by that path), with the
/// count of names not yet met, and forgotten after the last: a tree whose links point
/// outside the snapshot keeps 16 bytes and a count per file, not two paths.
struct RestoredLinks {
    /// The first 16 bytes of a path's SHA-256: a collision would need a SHA-256 collision.
    private struct PathDigest: Hashable {
        let high: UInt64, low: UInt64

        init(_ path: [UInt8]) {
            let digest = SHA256.hash(path)
            high = digest[0..<8].reduce(0) { $0 << 8 | UInt64($1) }
            low = digest[8..<16].reduce(0) { $0 << 8 | UInt64($1) }
        }
    }

    private let target: [UInt8]
    /// Further names not yet met, by the first name's snapshot path.
    private var unseen: [PathDigest: UInt64] = [:]
    /// Those of `unseen` whose file in the target was left as it was (already restored), so
    /// that a further name already linked to it can be left too.
    private var kept: Set<PathDigest> = []
    /// Where a further name was restored in place of a first name that was not restored
    /// (excluded, or outside the includes), by that first name's snapshot path.
    private var standIns: [[UInt8]: (target: [UInt8], firstKept: Bool)] = [:]

    /// - Parameter target: the normalised restore target, which the root tree maps to.
    init(target: [UInt8]) { self.target = target }

    /// The target path of a snapshot path (`/a/b`).
    func targetPath(of snapshotPath: [UInt8]) -> [UInt8] {
        target.last == PathBytes.slash ? target + snapshotPath.dropFirst() : target + snapshotPath
    }

    /// A regular file with `links` names was restored at the target of `snapshotPath`, or
    /// left as it was there (`kept`).
    mutating func restoredFirst(_ snapshotPath: [UInt8], links: UInt64, kept: Bool) {
        guard links > 1 else { return }
        let digest = PathDigest(snapshotPath)
        unseen[digest] = links - 1
        if kept { self.kept.insert(digest) }
    }

    /// The hard link whose first name is `firstName` was restored as a file at `target`
    /// (or left as it was there), because no earlier name of it was.
    mutating func restoredStandIn(for firstName: [UInt8], at target: [UInt8], kept: Bool) {
        standIns[firstName] = (target, kept)
    }

    /// Where to link a further name whose first name is `firstName`, and whether that file
    /// was left as it was, or `nil` when no name of that file has been restored; counts the
    /// name as met.
    mutating func linkTarget(forFurtherNameOf firstName: [UInt8]) -> (target: [UInt8], firstKept: Bool)? {
        let digest = PathDigest(firstName)
        if let left = unseen[digest] {
            let firstKept = left > 1 ? kept.contains(digest) : kept.remove(digest) != nil
            unseen[digest] = left > 1 ? left - 1 : nil
            return (targetPath(of: firstName), firstKept)
        }
        return standIns[firstName]
    }
}
