extension CoordinationScan {
    /// Whether a backup or prune lock in this scan belongs to a process that is gone
    /// (`LockTiming.isAlive`): a writer killed before it could name its last packs in an
    /// index file. Only then does a backup list every pack to index the ones no index names
    /// (`Repository.indexUnindexedPacks`): on a large repository on object storage that
    /// listing is a request per thousand packs, too many to make on every backup. A writer
    /// interrupted by a signal indexes its packs before it removes its lock (`ActiveSavers`),
    /// and packs left otherwise (a lock removed by `unlock`) wait for the next prune or
    /// `repair index`.
    func hasDeadWriter(timing: LockTiming, now: Timestamp, measured: Bool, localHost: String) -> Bool {
        files.contains { $0.record.kind != .deletion && !timing.isAlive($0, now: now, measured: measured, localHost: localHost) }
    }
}
