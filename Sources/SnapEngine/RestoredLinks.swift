/// The restored first names of hard-linked files, so that their further names are
/// restored as links to them.
///
/// A first name restored in its own place is remembered by its snapshot path alone (its
/// target is the restore target followed by that path), with the count of names not yet
/// met, and forgotten after the last: a tree whose links all lie inside the snapshot does
/// not keep them to its end, and one whose links point outside keeps a path per file.
struct RestoredLinks {
    private let target: [UInt8]
    /// Further names not yet met, by the first name's snapshot path.
    private var unseen: [[UInt8]: UInt64] = [:]
    /// Where a further name was restored in place of a first name that was not restored
    /// (excluded, or outside the includes), by that first name's snapshot path.
    private var standIns: [[UInt8]: [UInt8]] = [:]

    /// - Parameter target: the normalised restore target, which the root tree maps to.
    init(target: [UInt8]) { self.target = target }

    /// The target path of a snapshot path (`/a/b`).
    func targetPath(of snapshotPath: [UInt8]) -> [UInt8] {
        target.last == PathBytes.slash ? target + snapshotPath.dropFirst() : target + snapshotPath
    }

    /// A regular file with `links` names was restored at the target of `snapshotPath`.
    mutating func restoredFirst(_ snapshotPath: [UInt8], links: UInt64) {
        if links > 1 { unseen[snapshotPath] = links - 1 }
    }

    /// The hard link whose first name is `firstName` was restored as a file at `target`,
    /// because no earlier name of it was.
    mutating func restoredStandIn(for firstName: [UInt8], at target: [UInt8]) {
        standIns[firstName] = target
    }

    /// Where to link a further name whose first name is `firstName`, or `nil` when no
    /// name of that file has been restored; counts the name as met.
    mutating func linkTarget(forFurtherNameOf firstName: [UInt8]) -> [UInt8]? {
        if let left = unseen[firstName] {
            unseen[firstName] = left > 1 ? left - 1 : nil
            return targetPath(of: firstName)
        }
        return standIns[firstName]
    }
}
