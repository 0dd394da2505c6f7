extension MirrorBackend {
    public func read(_ file: FileName, range: Range<Int>?) throws -> [UInt8] {
        try read(file, range: range, isValid: { _ in true })
    }

    public func read(_ file: FileName, range: Range<Int>?, isValid: ([UInt8]) -> Bool) throws -> [UInt8] {
        if file.kind == .config { try checkOneRepository() }
        let checksName = range == nil && file.kind.isContentNamed
        let what = range.map { "bytes \($0.lowerBound)..<\($0.upperBound) of \(file) that fail validation" }
            ?? (checksName ? "a copy of \(file) whose content does not match its name" : "a copy of \(file) that fails validation")
        // A pack a replica lacks is copied back by read-repair below, which says so: the
        // missing copy is not also reported with advice to run `mirror sync`.
        let outcome = try failingOver("read", file, what: what, repairsMissing: file.kind == .data) { backend in
            try backend.read(file, range: range)
        } accept: { bytes in
            (!checksName || verifyName(file, bytes)) && isValid(bytes)
        }
        if let source = outcome.servedBy, !outcome.badCopies.isEmpty {
            repairCopies(of: file, on: outcome.badCopies, from: source, wholeFile: range == nil ? outcome.value : nil)
        }
        return outcome.value
    }

    public func stat(_ file: FileName) throws -> FileInfo {
        try failingOver("stat", file, what: "") { try $0.stat(file) } accept: { _ in true }.value
    }

    public func list(_ kind: FileKind) throws -> [FileInfo] {
        // Opening lists key files before it reads config: two repositories would each
        // look like a replica that lacks the other's key files.
        if kind == .keys { try checkOneRepository() }
        let replicas = self.replicas
        let unreachable = health.withLock { all in all.map(\.unreachable) }
        let results = Parallel.map(replicas.count, width: replicas.count) { i in
            Result {
                guard !unreachable[i] else {
                    throw StorageError.transient(operation: "list", file: nil, location: replicas[i].backend.location,
                                                 detail: "not asked: it could not be reached earlier in this run")
                }
                return try replicas[i].backend.list(kind)
            }
        }
        var union: [FileName: FileInfo] = [:]
        var entries: [MirrorFailure.Entry] = []
        var failed: [(Int, Error)] = []
        for (i, result) in results.enumerated() {
            switch result {
            case let .success(infos):
                for info in infos where union[info.file] == nil { union[info.file] = info }
            case let .failure(error):
                entries.append(.init(replica: replicas[i].name, error: error))
                failed.append((i, error))
            }
        }
        let served = failed.count < replicas.count
        // For the kinds whose listing decides lag, findLag gives the one warning.
        noteFailures(failed, file: nil, operation: "list \(kind.rawValue)", served: served && !kind.isContentNamed)
        guard served else {
            throw MirrorFailure.combine(entries, operation: "list", file: nil, location: location, summary: "no replica could be listed")
        }
        if kind.isContentNamed { findLag(kind, results: results, union: Set(union.keys)) }
        return Array(union.values)
    }

    /// Marks as lagging the replicas that lack files of `kind` which others have, or could
    /// not list them: a replica that lagged in an earlier run and was not synced since must
    /// not get index or snapshot files now, which could name packs or blobs it lacks.
    ///
    /// A file may be missing only because another process is writing it right now, so a few
    /// missing files are looked up again before the replica counts as lagging.
    private func findLag(_ kind: FileKind, results: [Result<[FileInfo], Error>], union: Set<FileName>) {
        let lagging = health.withLock { all in all.map(\.state.lagging) }
        for (i, result) in results.enumerated() where !lagging[i] {
            switch result {
            case let .failure(error):
                markLagging(i, reason: "cannot list \(kind.rawValue): \(error)",
                            message: "replica \(replicas[i].name) cannot list its \(kind.rawValue) files")
            case let .success(infos):
                let missing = union.subtracting(infos.map(\.file))
                guard !missing.isEmpty else { continue }
                if kind == .keys && infos.isEmpty {
                    setAside(i)
                    continue
                }
                let sample = missing.sorted { $0.name < $1.name }.prefix(3)
                let confirmed = sample.filter { file in (try? replicas[i].backend.stat(file)) == nil }
                guard let example = confirmed.first else { continue }
                markLagging(i, reason: "lacks \(missing.count) \(kind.rawValue) files that other replicas have",
                            message: "replica \(replicas[i].name) lacks \(missing.count) \(kind.rawValue) "
                                + "file\(missing.count == 1 ? "" : "s") that other replicas have (for example \(example))")
            }
        }
    }

    /// Sets replica `i` aside for this run, with a warning: it holds no key file where the
    /// others do, so no repository is there. Most likely a disk that is not mounted (its
    /// mount point is an empty folder) or a wrong location: writing packs there would fill
    /// the wrong disk, so it gets no writes; `snap mirror add` or `sync` fills a new replica.
    private func setAside(_ i: Int) {
        let warning = health.withLock { all -> String? in
            guard !all[i].state.down else { return nil }
            all[i].state.down = true
            all[i].state.lagging = true
            all[i].state.lagReason = "it holds no repository"
            all[i].downReason = "it holds no repository (no key files)"
            all[i].readLast = true
            return "replica \(replicas[i].name) holds no key files, so no repository is there (a disk that is not mounted, or a "
                + "wrong location?): it gets nothing in this run. Mount it, or fill a new replica with `snap mirror sync`."
        }
        if let warning { report(warning) }
    }

    /// The replicas in the order reads try them: as given, but those whose reads failed
    /// with an error earlier in this process after the others.
    func readOrder() -> [Int] {
        health.withLock { all in all.indices.filter { !all[$0].readLast } + all.indices.filter { all[$0].readLast } }
    }

    /// What `failingOver` found.
    struct FailOver<T> {
        let value: T
        /// The replica whose value was accepted; `nil` when none was.
        let servedBy: Int?
        /// Replicas tried before it that lack the file, hold a short copy, or returned
        /// rejected bytes: candidates for read-repair.
        let badCopies: [Int]
    }

    /// Calls `call` on each replica in read order until one returns a value `accept` takes.
    ///
    /// - Returns: the first accepted value; if none was accepted but some were returned, the
    ///   first returned (the caller reports the damage, as with a single backend).
    /// - Throws: `notFound` when every replica said so, else an error naming every replica's failure.
    /// - Parameter repairsMissing: the caller read-repairs replicas that lack the file
    ///   (`repairCopies`), which reports them itself.
    private func failingOver<T>(_ operation: String, _ file: FileName, what: String, repairsMissing: Bool = false,
                                _ call: (Backend) throws -> T, accept: (T) -> Bool) throws -> FailOver<T> {
        var rejected: T?
        var entries: [MirrorFailure.Entry] = []
        var failed: [(Int, Error)] = []
        var bad: [Int] = []
        for i in readOrder() {
            let replica = replicas[i]
            do {
                let value = try call(replica.backend)
                if accept(value) {
                    let reported = failed.filter { !repairsMissing || ($0.1 as? StorageError)?.isNotFound != true }
                    noteFailures(reported, file: file, operation: operation, served: true)
                    return FailOver(value: value, servedBy: i, badCopies: bad)
                }
                if rejected == nil { rejected = value }
                bad.append(i)
                entries.append(.init(replica: replica.name, error: nil, skipped: "returned \(what)"))
                health.withLock { $0[i].state.badCopies += 1 }
                report("replica \(replica.name) returned \(what); trying the next replica")
            } catch {
                entries.append(.init(replica: replica.name, error: error))
                failed.append((i, error))
                switch error as? StorageError {
                case .notFound?, .invalidRange?: bad.append(i)
                default: break
                }
            }
        }
        noteFailures(failed, file: file, operation: operation, served: rejected != nil)
        if let rejected { return FailOver(value: rejected, servedBy: nil, badCopies: []) }
        throw MirrorFailure.combine(entries, operation: operation, file: file, location: location,
                                    summary: "no replica could \(operation) it")
    }

    /// Records read failures, and reports them when another replica answered instead:
    /// a missing file once per replica, a short copy each time, an error once per replica
    /// (which from then on is read after the others).
    func noteFailures(_ failed: [(Int, Error)], file: FileName?, operation: String, served: Bool) {
        guard !failed.isEmpty else { return }
        let subject = file.map { "\(operation) \($0)" } ?? operation
        let messages = health.withLock { all -> [String] in
            var messages: [String] = []
            for (i, error) in failed {
                let name = replicas[i].name
                switch error as? StorageError {
                case .notFound?:
                    // Locks belong to one replica: sync never copies them, so one lacking
                    // another's lock is as it should be.
                    if served && file?.kind != .locks && !all[i].reportedMissing {
                        all[i].reportedMissing = true
                        messages.append("replica \(name) lacks \(file?.description ?? "a file"), which another replica has; "
                            + "run `snap mirror sync` to copy what it lacks")
                    }
                case .invalidRange?:
                    if served {
                        all[i].state.badCopies += 1
                        messages.append("replica \(name) has a short copy of \(file?.description ?? "a file") (\(error)); "
                            + "run `snap mirror sync` to repair it")
                    }
                default:
                    all[i].state.failedReads += 1
                    all[i].state.lastError = "\(error)"
                    all[i].readLast = true
                    if (error as? StorageError)?.isTransient == true { Self.goDown(&all[i], unreachable: subject) }
                    if served && !all[i].reportedUnreachable {
                        all[i].reportedUnreachable = true
                        messages.append("replica \(name) failed to \(subject) (\(error)); "
                            + "using the other replicas first for the rest of this run")
                    }
                }
            }
            return messages
        }
        messages.forEach(report)
    }
}
