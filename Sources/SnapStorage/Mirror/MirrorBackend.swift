import Synchronization

/// A repository kept at several locations (replicas), presented as one backend.
///
/// - **Writes** go to every replica at once, and return only when every replica has
///   answered, so that a failure is known before the caller writes anything that depends
///   on the file. A write succeeds when `policy` is met. A replica whose write fails is
///   *lagging* for the rest of the process: it still gets packs, but no more config, key,
///   index or snapshot files, so it never holds an index or snapshot that names a pack it
///   lacks and stays a valid repository on its own. After `downAfter` failed writes in a row,
///   or one call that failed with a transient error after its retries (it cannot be reached),
///   it gets no writes at all. A replica is lagging as well when a listing of packs, key,
///   index or snapshot files shows it lacks some that other replicas have (it lagged in an
///   earlier run and was not synced), or cannot list them; commands list the index before
///   they write, so the lag of an earlier run carries over.
/// - **Reads** and `stat` try the replicas in order (those that failed with an error
///   earlier in the process last) and fail over on any error, on `notFound`, on a whole
///   content-named file whose bytes do not match its name (`verifyName`), and on bytes
///   that `isValid` rejects. They throw `notFound` only when every replica said so. When
///   every copy was rejected, they return the first, as a single backend would, so the
///   caller reports the damage.
/// - **List** returns the union over the replicas that answer, and fails only if none does.
/// - **Delete** removes the file from every replica; a replica that lacks it counts as done;
///   `notFound` only if no replica had it. A lagging replica keeps its packs, index files,
///   key files and config: it gets none of the files that replace them (a superseding index,
///   a new key), and its own index files may still name the packs.
///
/// Problems go to `report` as single lines. See docs/mirroring.md.
public final class MirrorBackend: Backend {
    /// Per-replica state beyond what `ReplicaState` shows.
    struct Health {
        var state: ReplicaState
        var failuresInARow = 0
        /// A read from it failed with an error: read it after the others.
        var readLast = false
        var reportedMissing = false
        var reportedUnreachable = false
        /// A read, listing or write of it failed with a transient error after its retries
        /// (connection refused, timeouts): it is not listed again in this process, read only
        /// when no other replica serves the file, and sent no writes (`state.down`), so a
        /// replica that is down does not cost every call its retries.
        var unreachable = false
        /// Why it gets no more writes, once `state.down`: for the skip reasons.
        var downReason = ""
        /// Files read-repair has written (or tried to) on this replica.
        var repairing: Set<FileName> = []
    }

    public let replicas: [Replica]
    public let policy: MirrorPolicy
    /// Failed writes in a row after which a replica gets no more writes in this process.
    public let downAfter: Int
    let verifyName: NameVerifier
    let report: @Sendable (String) -> Void
    let health: Mutex<[Health]>
    /// The outcome of `checkOneRepository`, once checked.
    let oneRepository = Mutex<Result<Void, StorageError>?>(nil)

    /// - Parameters:
    ///   - replicas: the locations, in the order reads try them; must not be empty.
    ///   - policy: how many replicas must take a write.
    ///   - verifyName: whether bytes match a content-named file's name; the default accepts everything.
    ///   - downAfter: failed writes in a row after which a replica gets no more writes.
    ///   - report: told about lagging replicas, fail-overs and bad copies, one line each.
    public init(replicas: [Replica], policy: MirrorPolicy = .quorum, verifyName: @escaping NameVerifier = { _, _ in true },
                downAfter: Int = 3, report: @escaping @Sendable (String) -> Void = { _ in }) {
        precondition(!replicas.isEmpty, "a mirror needs at least one replica")
        self.replicas = replicas
        self.policy = policy
        self.verifyName = verifyName
        self.downAfter = max(1, downAfter)
        self.report = report
        health = Mutex(replicas.map { Health(state: ReplicaState(name: $0.name)) })
    }

    /// `mirror(first, second, …)`.
    public var location: String { "mirror(" + replicas.map(\.name).joined(separator: ", ") + ")" }

    /// What this mirror has seen of each replica so far, in replica order.
    public func replicaStates() -> [ReplicaState] { health.withLock { $0.map(\.state) } }

    // MARK: Writes

    public func write(_ file: FileName, data: [UInt8]) throws {
        try replicate(file) { try $0.write(file, data: data) }
    }

    /// A staged file of the first replica that can make one (a local replica links it
    /// into place; the others copy it), else one in the temporary folder.
    public func makeStagedFile() throws -> StagedFile {
        for replica in replicas {
            if let staged = try? replica.backend.makeStagedFile() { return staged }
        }
        return try StagedFile.temporary()
    }

    public func write(_ file: FileName, staged: StagedFile) throws {
        try replicate(file) { try $0.write(file, staged: staged) }
    }

    /// Writes `file` to every replica that should have it, at once, and throws unless the
    /// write policy is met.
    private func replicate(_ file: FileName, _ write: @escaping @Sendable (Backend) throws -> Void) throws {
        try checkOneRepository()
        let skips = skipReasons(skippingLagging: file.kind.isWithheldFromLaggingReplicas, suffix: "")
        let targets = replicas.indices.filter { skips[$0] == nil }
        let replicas = self.replicas
        let errors = Parallel.map(targets.count, width: targets.count) { k -> Error? in
            do {
                try write(replicas[targets[k]].backend)
                return nil
            } catch {
                return error
            }
        }
        var outcomes = [Error?](repeating: nil, count: replicas.count)
        for (k, i) in targets.enumerated() { outcomes[i] = errors[k] }
        let successes = errors.filter { $0 == nil }.count
        recordWrites(targets: targets, outcomes: outcomes, file: file, operation: "write")
        guard policy.isMet(successes: successes, of: replicas.count) else {
            throw policyFailure("write", file, successes: successes, skips: skips, outcomes: outcomes, verb: "written to")
        }
    }

    public func delete(_ file: FileName) throws {
        try checkOneRepository()
        let skips = skipReasons(skippingLagging: file.kind.isKeptOnLaggingReplicas,
                                suffix: ", so it keeps its \(file.kind.rawValue) files")
        let targets = replicas.indices.filter { skips[$0] == nil }
        let replicas = self.replicas
        let errors = Parallel.map(targets.count, width: targets.count) { k -> Error? in
            do {
                try replicas[targets[k]].backend.delete(file)
                return nil
            } catch {
                return error
            }
        }
        var outcomes = [Error?](repeating: nil, count: replicas.count)
        for (k, i) in targets.enumerated() {
            if case StorageError.notFound? = errors[k] { continue }  // gone is what was asked
            outcomes[i] = errors[k]
        }
        let deleted = targets.count - outcomes.compactMap { $0 }.count
        recordWrites(targets: targets, outcomes: outcomes, file: file, operation: "delete")
        guard policy.isMet(successes: deleted, of: replicas.count) else {
            throw policyFailure("delete", file, successes: deleted, skips: skips, outcomes: outcomes, verb: "deleted from")
        }
    }

    /// Per replica, why a write or delete is not sent to it (`nil`: it is sent), counting the
    /// skips. A replica that went down on a read (it could not be reached) lags from its first
    /// skipped write on, with the warning that asks for `snap mirror sync`.
    ///
    /// - Parameter skippingLagging: whether lagging replicas are skipped too, not only those that are down.
    private func skipReasons(skippingLagging: Bool, suffix: String) -> [String?] {
        var warnings: [String] = []
        let reasons = health.withLock { all in
            all.indices.map { i -> String? in
                let reason: String?
                if all[i].state.down {
                    reason = "skipped: \(all[i].downReason)"
                    if let warning = Self.lag(&all[i], reason: all[i].downReason,
                                              message: "replica \(replicas[i].name) is sent no writes: \(all[i].downReason)") {
                        warnings.append(warning)
                    }
                } else if skippingLagging && all[i].state.lagging {
                    reason = "skipped: lagging (\(all[i].state.lagReason ?? "an earlier failure"))" + suffix
                } else {
                    reason = nil
                }
                if reason != nil { all[i].state.skippedWrites += 1 }
                return reason
            }
        }
        warnings.forEach(report)
        return reasons
    }

    /// Updates the replicas' state after a write or delete and reports those that began to lag or went down.
    private func recordWrites(targets: [Int], outcomes: [Error?], file: FileName, operation: String) {
        let messages = health.withLock { all -> [String] in
            var messages: [String] = []
            for i in targets {
                guard let error = outcomes[i] else {
                    all[i].failuresInARow = 0
                    continue
                }
                all[i].state.failedWrites += 1
                all[i].state.lastError = "\(error)"
                all[i].failuresInARow += 1
                if let message = Self.lag(&all[i], reason: "\(operation) \(file): \(error)",
                                          message: "replica \(replicas[i].name) cannot \(operation) \(file) (\(error))") {
                    messages.append(message)
                }
                guard !all[i].state.down else { continue }
                if (error as? StorageError)?.isTransient == true {
                    Self.goDown(&all[i], unreachable: "\(operation) \(file)")
                    messages.append("replica \(replicas[i].name) could not be reached (\(error)); sending it nothing more in this run")
                } else if all[i].failuresInARow >= downAfter {
                    all[i].state.down = true
                    all[i].downReason = "it stopped taking writes after \(downAfter) failures in a row"
                    messages.append("replica \(replicas[i].name) failed \(downAfter) writes in a row; sending it nothing more in this run")
                }
            }
            return messages
        }
        messages.forEach(report)
    }

    /// Marks `health` unreachable after `what` failed with a transient error after its
    /// retries: it is not listed again, read last, and sent no writes in this process.
    static func goDown(_ health: inout Health, unreachable what: String) {
        health.unreachable = true
        health.readLast = true
        guard !health.state.down else { return }
        health.state.down = true
        health.downReason = "it could not be reached (\(what) failed)"
    }

    /// Marks replica `i` lagging, with a warning, unless it already is.
    func markLagging(_ i: Int, reason: String, message: String) {
        let warning = health.withLock { Self.lag(&$0[i], reason: reason, message: message) }
        if let warning { report(warning) }
    }

    /// Marks `health` lagging; returns the warning to give, or `nil` when it already was.
    private static func lag(_ health: inout Health, reason: String, message: String) -> String? {
        guard !health.state.lagging else { return nil }
        health.state.lagging = true
        health.state.lagReason = reason
        let writes = health.state.down ? "it is sent nothing more in this run"
            : "what this command writes gives it packs and locks only, no index, snapshot, key or config files"
        return message + ", so it is lagging (\(writes)). Run `snap mirror sync` once what failed is mended (a server down, a certificate refused) to bring it up to date."
    }

    private func policyFailure(_ operation: String, _ file: FileName, successes: Int, skips: [String?], outcomes: [Error?],
                               verb: String) -> StorageError {
        var entries: [MirrorFailure.Entry] = []
        for i in replicas.indices {
            if let skip = skips[i] {
                entries.append(.init(replica: replicas[i].name, error: nil, skipped: skip))
            } else if let error = outcomes[i] {
                entries.append(.init(replica: replicas[i].name, error: error))
            }
        }
        let summary = "\(verb) \(successes) of \(replicas.count) replicas, and the \(policy.rawValue) policy needs "
            + "\(policy.required(of: replicas.count))"
        return MirrorFailure.combine(entries, operation: operation, file: file, location: location, summary: summary,
                                     missingIsNotFound: false)
    }
}
