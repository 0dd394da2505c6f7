import SnapCore

extension Repository {
    /// Where `id` is now, when the pack the index gave for it is gone; `nil` when no other
    /// pack holds it.
    ///
    /// Readers take no lock (FORMAT.md, "Locks and deletion marks"), so a prune may repack
    /// and delete a pack that a reader's index still names. A prune writes the index files
    /// naming the new packs before it deletes the old ones, so reading the index again
    /// finds the blob's new place. The index is read again at most once per missing pack
    /// that it still names (a pack missing for another reason costs one reload, not one
    /// per blob); the reload is atomic for other threads' lookups.
    public func relocate(_ id: BlobID, missingFrom pack: PackID) -> BlobLocation? {
        reloadedFor.withLock { tried in
            guard index.packSize(pack) != nil, tried.insert(pack).inserted else { return }
            try? loadIndex()
        }
        guard let location = index.lookup(id), location.pack != pack else { return nil }
        return location
    }
}
