extension MirrorBackend {
    /// Throws unless the replicas that hold a `config` hold the same one: replicas of one
    /// repository are copies of it, and `config` is written once, by `init`, and copied
    /// byte for byte. Two different ones mean two repositories given as one (`-r A -r B`
    /// where a restic user meant "the last one"), and any write would put one repository's
    /// packs into the other. Replicas without `config` (new ones, to be synced) and those
    /// that cannot be read now pass; one that cannot be reached (a transient error after its
    /// retries) is marked so, and gets no writes in this process.
    ///
    /// Checked once per mirror, when `config` is first read or key files first listed, and
    /// before the first write or delete (a command that opens from cached copies reads no `config`, and every command
    /// that changes anything writes a lock first): `config` is read from every replica at
    /// once, one small read each. Reads of other files do not wait for it, so a replica that
    /// is down delays only what would reach it anyway.
    func checkOneRepository() throws {
        // The lock is held across the reads on purpose: a second caller must wait for the
        // check in flight, since nothing may be written before it is done.
        try oneRepository.withLock { checked in
            if let checked { return try checked.get() }
            let replicas = self.replicas
            // One found unreachable earlier in this run (reading a key file) is not asked again:
            // a dead server costs one call's retries, not one more round for `config`.
            let unreachableBefore = health.withLock { all in all.map(\.unreachable) }
            let configs = Parallel.map(replicas.count, width: replicas.count) { i in
                Result {
                    guard !unreachableBefore[i] else {
                        throw StorageError.transient(operation: "read", file: FileName.config, location: replicas[i].backend.location,
                                                     detail: "not asked: it could not be reached earlier in this run")
                    }
                    return try replicas[i].backend.read(FileName.config, range: nil)
                }
            }
            // One that cannot be reached is marked so now, before any write waits for its retries.
            let unreachable = configs.indices.compactMap { i -> (Int, Error)? in
                guard case .failure(let error) = configs[i], (error as? StorageError)?.isTransient == true else { return nil }
                return (i, error)
            }
            noteFailures(unreachable, file: FileName.config, operation: "read", served: unreachable.count < replicas.count)
            var first: (index: Int, name: String, bytes: [UInt8])?
            var outcome: Result<Void, StorageError> = .success(())
            var warnedOfDamage = false
            for (i, result) in configs.enumerated() {
                guard case .success(let bytes) = result else { continue }
                guard let seen = first else { first = (i, replicas[i].name, bytes); continue }
                if seen.bytes != bytes && shareKeyFiles(seen.index, i) {
                    // One repository (key files are random: two never share one) whose config is
                    // damaged on one of them: reads take the copy that authenticates.
                    if warnedOfDamage { continue }
                    warnedOfDamage = true
                    report("the config files of \(seen.name) and \(replicas[i].name) differ, though they share key files: one "
                           + "repository, one config damaged; the copy that opens with the key is used. `snap mirror sync` "
                           + "replaces it when most replicas agree; otherwise copy the one that opens (snap -r LOCATION cat config) over it")
                    continue
                }
                if seen.bytes != bytes {
                    outcome = .failure(.permanent(
                        operation: "open", file: nil, location: location,
                        detail: "\(seen.name) and \(replicas[i].name) hold different repositories (their config files differ), "
                            + "so they cannot be replicas of one; give one -r for one repository, "
                            + "or see which is which with snap -r LOCATION snapshots"))
                    break
                }
            }
            checked = outcome
            try outcome.get()
        }
    }

    /// Whether replicas `a` and `b` list a key file of the same name (`MirrorInventory.shareKeyFiles`).
    private func shareKeyFiles(_ a: Int, _ b: Int) -> Bool {
        guard let first = try? replicas[a].backend.list(.keys), let second = try? replicas[b].backend.list(.keys) else { return false }
        return MirrorInventory.shareAKeyFile(Set(first.map(\.file)), Set(second.map(\.file)))
    }
}
