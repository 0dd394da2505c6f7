/// The files of every replica, listed once, for `MirrorStatus` and `MirrorSync`.
struct MirrorInventory: Sendable {
    let replicas: [Replica]
    /// Per replica, every file (of every kind) and its size; `nil` when the replica could not be listed.
    let files: [[FileName: Int]?]
    /// Per replica, why it could not be listed.
    let errors: [String?]
    /// Every file of a mirrored kind on any listed replica: the replicas that hold it and their sizes.
    let union: [FileName: [Int: Int]]

    /// Lists every kind on every replica, `width` replicas at a time.
    static func take(_ replicas: [Replica], width: Int) -> MirrorInventory {
        let listings = Parallel.map(replicas.count, width: width) { i -> Result<[FileName: Int], Error> in
            Result {
                var files: [FileName: Int] = [:]
                for kind in FileKind.allCases {
                    for info in try replicas[i].backend.list(kind) { files[info.file] = info.size }
                }
                return files
            }
        }
        var files: [[FileName: Int]?] = []
        var errors: [String?] = []
        var union: [FileName: [Int: Int]] = [:]
        for (i, listing) in listings.enumerated() {
            switch listing {
            case let .success(found):
                files.append(found)
                errors.append(nil)
                for (file, size) in found where FileKind.mirrored.contains(file.kind) { union[file, default: [:]][i] = size }
            case let .failure(error):
                files.append(nil)
                errors.append("\(error)")
            }
        }
        return MirrorInventory(replicas: replicas, files: files, errors: errors, union: union)
    }

    /// Whether every two of `replicas` hold a key file of the same name. Key files are named
    /// by the hash of their random content, so two repositories never share one: replicas
    /// that do are copies of one repository, whatever their `config` copies say.
    func shareKeyFiles(_ replicas: [Int]) -> Bool {
        let keys = replicas.map { i in Set((files[i] ?? [:]).keys.filter { $0.kind == .keys }) }
        return keys.indices.allSatisfy { a in keys.indices.allSatisfy { b in a == b || Self.shareAKeyFile(keys[a], keys[b]) } }
    }

    /// Whether two replicas' key files (`keys/…` names) include one of the same name.
    static func shareAKeyFile(_ a: Set<FileName>, _ b: Set<FileName>) -> Bool { !a.isDisjoint(with: b) }

    /// The replicas that could be listed.
    var reachable: [Int] { replicas.indices.filter { files[$0] != nil } }

    /// Replicas whose `index/` went its own way from another's: each holds index files the
    /// other lacks. A backup that a replica missed leaves it lacking only; a prune that it
    /// missed (down, or lagging, while the others deleted the index files the prune
    /// replaced) leaves it also holding the old ones. Copying those back, as a plain sync
    /// does, brings back the forgotten snapshots with packs that only superseded index files
    /// name: unreadable until `repair index`. Found from listings alone (no password), so
    /// two replicas that each missed a different backup look the same.
    var divergentIndexes: [Int] {
        reachable.filter { i in
            guard let mine = files[i] else { return false }
            return reachable.contains { j in
                guard j != i, let theirs = files[j] else { return false }
                return mine.keys.contains { $0.kind == .index && theirs[$0] == nil }
                    && theirs.keys.contains { $0.kind == .index && mine[$0] == nil }
            }
        }
    }

    /// Replicas holding snapshots the first replica lacks, while the first holds no index
    /// file they lack: it went through no prune they missed, so those snapshots look like
    /// backups the first replica missed (it was down, or a write policy let it lag), not
    /// snapshots forgotten there. `--delete-extra` would lose them. With the count of such
    /// snapshots on each.
    var unexplainedExtraSnapshots: [(replica: Int, snapshots: Int)] {
        guard let first = files[0] else { return [] }
        return reachable.filter { $0 != 0 }.compactMap { i in
            guard let theirs = files[i] else { return nil }
            let extra = theirs.keys.filter { $0.kind == .snapshots && first[$0] == nil }.count
            guard extra > 0, !first.keys.contains(where: { $0.kind == .index && theirs[$0] == nil }) else { return nil }
            return (i, extra)
        }
    }

    /// The advice for `divergentIndexes`, naming the replicas.
    func divergenceWarning(_ replicas: [Int]) -> String? {
        guard !replicas.isEmpty else { return nil }
        return "the index files of \(replicas.map { self.replicas[$0].name }.joined(separator: ", ")) have gone separate ways: "
            + "a forget or prune probably ran while one of them was down. A plain `snap mirror sync` copies back what it removed, "
            + "and the snapshots it brings back stay unreadable until `snap repair index`; instead run `snap mirror sync "
            + "--delete-extra` with a replica that took part in the prune named first (--dry-run first: it also deletes "
            + "snapshots that only the other replicas hold, such as a backup that reached only them)"
    }

    /// The files of the union, in dependency order of kinds and then by name.
    var orderedFiles: [FileName] {
        union.keys.sorted { a, b in
            let ka = FileKind.mirrored.firstIndex(of: a.kind) ?? 0, kb = FileKind.mirrored.firstIndex(of: b.kind) ?? 0
            return ka != kb ? ka < kb : a.name < b.name
        }
    }
}

/// Which copies of the union's files are damaged.
///
/// A content-named file is read from a replica, and checked against its name, when its
/// listed sizes differ between replicas, or for every copy with `verifyAll`. `config` is
/// not named by its content, and is read from every replica that has one: copies that
/// differ are two repositories given as one, a conflict that only a person can resolve.
struct CopyCheck: Sendable {
    /// Per file, the replicas whose copy does not match the file's name.
    var bad: [FileName: Set<Int>] = [:]
    /// Copies that could not be read to check them.
    var unreadable: [String] = []
    /// Whether replicas hold different `config` files.
    var configConflict: String?
    /// Copies read and checked.
    var checked = 0

    static func run(_ inventory: MirrorInventory, verifyAll: Bool, verifyName: @escaping NameVerifier, width: Int) -> CopyCheck {
        var jobs: [(file: FileName, replica: Int)] = []
        for file in inventory.orderedFiles {
            let holders = inventory.union[file] ?? [:]
            let sizesDiffer = Set(holders.values).count > 1
            if file.kind == .config {
                if holders.count > 1 { for i in holders.keys.sorted() { jobs.append((file, i)) } }
                continue
            }
            if sizesDiffer || verifyAll {
                for i in holders.keys.sorted() { jobs.append((file, i)) }
            }
        }
        enum Outcome: Sendable { case good, bad, unreadable(String), bytes([UInt8]) }
        let replicas = inventory.replicas
        let outcomes = Parallel.map(jobs.count, width: width) { [jobs] k -> Outcome in
            let (file, i) = jobs[k]
            do {
                let bytes = try replicas[i].backend.read(file)
                if !file.kind.isContentNamed { return .bytes(bytes) }
                return verifyName(file, bytes) ? .good : .bad
            } catch {
                return .unreadable("\(error)")
            }
        }
        var check = CopyCheck()
        var configs: [(Int, [UInt8])] = []
        for (k, outcome) in outcomes.enumerated() {
            let (file, i) = jobs[k]
            switch outcome {
            case .good: check.checked += 1
            case .bad: check.checked += 1; check.bad[file, default: []].insert(i)
            case let .unreadable(error): check.unreadable.append("cannot read \(file) from \(replicas[i].name) to check it: \(error)")
            case let .bytes(bytes): check.checked += 1; configs.append((i, bytes))
            }
        }
        let configSizes = inventory.union[.config] ?? [:]
        if Set(configSizes.values).count > 1 || Set(configs.map(\.1)).count > 1 {
            let holders = configs.map(\.0)
            if !inventory.shareKeyFiles(holders) {
                let names = configSizes.keys.sorted().map { "\(replicas[$0].name) (\(configSizes[$0] ?? 0) bytes)" }
                check.configConflict = "the replicas hold different config files (\(names.joined(separator: ", "))): "
                    + "they are different repositories; open each alone (snap -r LOCATION snapshots) to see which is which"
            } else if let majority = Dictionary(grouping: configs, by: \.1).values.first(where: { $0.count * 2 > configs.count }) {
                // One repository (they share key files, which are random), and most copies agree:
                // the others are damaged. Two copies spoilt the same way are not a risk worth naming.
                let good = Set(majority.map(\.0))
                for i in holders where !good.contains(i) { check.bad[.config, default: []].insert(i) }
            } else {
                let names = holders.map { replicas[$0].name }.joined(separator: ", ")
                check.configConflict = "the config files of \(names) differ, though these replicas share key files: they are one "
                    + "repository whose config is damaged on some of them, and no copy is held by most. Without the password sync "
                    + "cannot tell which is intact: see which opens (snap -r LOCATION cat config) and copy that file over the others"
            }
        }
        return check
    }
}
