/// How the replicas of a mirror compare: what each holds, lacks, has alone, and holds damaged.
///
/// Computed from listings, without the password; copies are read only where sizes
/// disagree, or all of them with `verify`.
public struct MirrorStatus: Codable, Sendable {
    /// Files and bytes of one kind on one replica.
    public struct Totals: Codable, Sendable, Equatable {
        public var files = 0
        public var bytes = 0
        public init(files: Int = 0, bytes: Int = 0) { self.files = files; self.bytes = bytes }
    }

    /// One replica's side of the comparison.
    public struct ReplicaStatus: Codable, Sendable {
        public let name: String
        /// Whether every kind could be listed.
        public let reachable: Bool
        /// Why it could not be listed.
        public let error: String?
        /// Per kind (`config`, `keys`, `data`, `index`, `snapshots`, `locks`), what it holds.
        public let kinds: [String: Totals]
        /// Files some other replica has and this one lacks (`data/…`, `index/…`, …).
        public let lacking: [String]
        /// Files that this replica alone has.
        public let extra: [String]
        /// Files whose copy here does not match its name (damaged), found by reading it.
        public let damaged: [String]

        /// Reachable, lacking nothing and holding nothing damaged.
        public var isComplete: Bool { reachable && lacking.isEmpty && damaged.isEmpty }
    }

    public let replicas: [ReplicaStatus]
    /// Whether every copy was read and checked against its name (`--verify`).
    public let verified: Bool
    /// Problems that concern several replicas, such as differing config files or copies
    /// that could not be read to check them.
    public let problems: [String]
    /// Why a plain sync would do harm here, when it would (`MirrorInventory.divergentIndexes`).
    public let syncWarning: String?

    /// Whether every replica is reachable and holds the same, undamaged files.
    public var inSync: Bool { problems.isEmpty && replicas.allSatisfy { $0.isComplete && $0.extra.isEmpty } }

    /// Lists every replica and compares them.
    ///
    /// - Parameters:
    ///   - verify: read every copy of every content-named file and check it against its name.
    ///   - verifyName: whether bytes match a content-named file's name.
    ///   - parallelism: how many replicas are listed, and copies read, at once.
    public static func check(_ replicas: [Replica], verify: Bool = false, verifyName: @escaping NameVerifier,
                             parallelism: Int = 4) -> MirrorStatus {
        let inventory = MirrorInventory.take(replicas, width: parallelism)
        let copies = CopyCheck.run(inventory, verifyAll: verify, verifyName: verifyName, width: parallelism)
        let reachable = inventory.reachable
        var statuses: [ReplicaStatus] = []
        for i in replicas.indices {
            guard let files = inventory.files[i] else {
                statuses.append(ReplicaStatus(name: replicas[i].name, reachable: false, error: inventory.errors[i],
                                              kinds: [:], lacking: [], extra: [], damaged: []))
                continue
            }
            var kinds: [String: Totals] = [:]
            for kind in FileKind.allCases { kinds[kind.rawValue] = Totals() }
            for (file, size) in files {
                kinds[file.kind.rawValue, default: Totals()].files += 1
                kinds[file.kind.rawValue, default: Totals()].bytes += size
            }
            var lacking: [String] = [], extra: [String] = [], damaged: [String] = []
            for file in inventory.orderedFiles {
                let holders = inventory.union[file] ?? [:]
                if holders[i] == nil {
                    lacking.append(file.description)
                } else if reachable.count > 1 && holders.count == 1 {
                    extra.append(file.description)
                }
                if copies.bad[file]?.contains(i) == true { damaged.append(file.description) }
            }
            statuses.append(ReplicaStatus(name: replicas[i].name, reachable: true, error: nil, kinds: kinds,
                                          lacking: lacking, extra: extra, damaged: damaged))
        }
        var problems = copies.unreadable
        if let conflict = copies.configConflict { problems.append(conflict) }
        return MirrorStatus(replicas: statuses, verified: verify, problems: problems,
                            syncWarning: inventory.divergenceWarning(inventory.divergentIndexes))
    }
}
