import SnapStorage

/// A lock just written, `locks/` as scanned right after, and the folders listed with that
/// scan (`RepositoryLock.withListing`).
public struct LockedListing {
    public let lock: RepositoryLock
    public let scan: CoordinationScan
    /// The folders the caller asked for, and `locks/`, each listed after the lock was written.
    public let listing: KindListing
    /// The storage's time of the lock, from the listing; `nil` where the listing has no times.
    public let lockTime: Double?

    struct Scanned {
        let scan: CoordinationScan
        let listing: KindListing
        let lockTime: Double?
    }

    /// Whether a file of `kinds` may have been written while the folders were listed
    /// together, so that what it depends on, written before it in another folder, may be
    /// missing from the listing (`KindListing`). Not when the folders were listed one by
    /// one in the order asked, nor when every such file is older than the lock by more than
    /// `margin` seconds (storage times may have whole seconds, and several servers' clocks).
    public func mayBeTorn(by kinds: [FileKind], margin: Double = KindListing.clockMargin) -> Bool {
        guard !listing.inRequestedOrder else { return false }
        guard let lockTime else { return true }
        return kinds.contains { kind in
            listing[kind].contains { ($0.modified ?? .infinity) > lockTime - margin }
        }
    }
}
