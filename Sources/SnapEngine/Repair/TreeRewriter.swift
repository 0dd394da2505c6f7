import SnapCore
import SnapRepository

/// One entry that `repair snapshots` changed.
public struct RepairChange: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// A file (or hard link) with lost content blobs: kept as `NAME.damaged` holding its
        /// intact blobs in order, the lost ones left out.
        case fileDamaged(lostBlobs: Int, blobs: Int, originalSize: UInt64, keptSize: UInt64)
        /// A folder whose tree is lost or unreadable: kept as an empty `NAME.damaged` folder
        /// (the root of a snapshot stays `/`, emptied).
        case folderUnreadable(reason: String)
    }

    /// The snapshot path of the entry before the repair.
    public var path: [UInt8]
    /// Its snapshot path after the repair.
    public var newPath: [UInt8]
    public var kind: Kind
}

/// Rewrites trees bottom-up so they name no lost blob (see `Repairer.repairSnapshots`).
///
/// A tree's rewrite depends only on the tree, so it is computed once per tree ID however
/// often the tree occurs, in one snapshot or many.
final class TreeRewriter {
    enum Outcome {
        case intact
        /// The replacement tree, and the changes below it with paths relative to it.
        case rewritten(BlobID, [RepairChange])
        case unreadable(String)
    }

    private let repository: Repository
    /// Blobs to treat as lost, with the reason.
    private let lost: [BlobID: String]
    /// Stores a new tree and returns its ID.
    private let save: (Tree) throws -> BlobID
    private var outcomes: [BlobID: Outcome] = [:]
    private var intact: Set<BlobID> = []
    private lazy var decoder = try? BlobDecoder(keys: repository.keys)

    init(repository: Repository, lost: [BlobID: String], save: @escaping (Tree) throws -> BlobID) {
        self.repository = repository
        self.lost = lost
        self.save = save
    }

    /// The outcome for a snapshot's root tree, with paths made absolute.
    func rewriteRoot(_ root: BlobID) throws -> Outcome {
        switch try rewrite(root) {
        case .intact:
            return .intact
        case let .rewritten(id, changes):
            return .rewritten(id, changes.map {
                RepairChange(path: [PathBytes.slash] + $0.path, newPath: [PathBytes.slash] + $0.newPath, kind: $0.kind)
            })
        case let .unreadable(reason):
            let empty = try save(Tree(nodes: []))
            return .rewritten(empty, [RepairChange(path: [PathBytes.slash], newPath: [PathBytes.slash], kind: .folderUnreadable(reason: reason))])
        }
    }

    private func rewrite(_ id: BlobID) throws -> Outcome {
        if intact.contains(id) { return .intact }
        if let known = outcomes[id] { return known }
        let outcome = try computeRewrite(id)
        if case .intact = outcome { intact.insert(id) } else { outcomes[id] = outcome }
        return outcome
    }

    private func computeRewrite(_ id: BlobID) throws -> Outcome {
        if let reason = lost[id] { return .unreadable(reason) }
        let tree: Tree
        do {
            tree = try Tree.decode(try repository.loadBlob(id, decoder: decoder))
        } catch where PackVerifier.isDamage(error) {
            return .unreadable(PackVerifier.reason(error))
        }
        var nodes: [Node] = []
        var changes: [RepairChange] = []
        var taken = Set(tree.nodes.map(\.name))
        for node in tree.nodes {
            switch node.type {
            case .file, .hardlink:
                guard node.content.contains(where: isLost) else { nodes.append(node); continue }
                var repaired = node
                let kept = node.content.filter { !isLost($0) }
                repaired.type = .file
                repaired.linkTarget = []
                repaired.content = kept
                repaired.size = kept.reduce(0) { $0 + UInt64(repository.index.lookup($1)?.entry.rawLength ?? 0) }
                repaired.name = Self.damagedName(node.name, taken: &taken)
                nodes.append(repaired)
                changes.append(RepairChange(path: node.name, newPath: repaired.name,
                                            kind: .fileDamaged(lostBlobs: node.content.count - kept.count, blobs: node.content.count,
                                                               originalSize: node.size, keptSize: repaired.size)))
            case .directory:
                guard let subtree = node.subtree else { nodes.append(node); continue }
                var repaired = node
                switch try rewrite(subtree) {
                case .intact:
                    break
                case let .rewritten(newID, below):
                    repaired.subtree = newID
                    changes += below.map {
                        RepairChange(path: PathBytes.join(node.name, $0.path), newPath: PathBytes.join(node.name, $0.newPath), kind: $0.kind)
                    }
                case let .unreadable(reason):
                    repaired.subtree = try save(Tree(nodes: []))
                    repaired.name = Self.damagedName(node.name, taken: &taken)
                    changes.append(RepairChange(path: node.name, newPath: repaired.name, kind: .folderUnreadable(reason: reason)))
                }
                nodes.append(repaired)
            default:
                nodes.append(node)
            }
        }
        guard !changes.isEmpty else { return .intact }
        return .rewritten(try save(Tree(nodes: nodes)), changes)
    }

    /// Whether a content blob cannot be restored.
    private func isLost(_ id: BlobID) -> Bool {
        lost[id] != nil || !repository.index.contains(id)
    }

    /// `NAME.damaged`, or `NAME.damaged-2`, `-3`… when that name is taken in the folder.
    static func damagedName(_ name: [UInt8], taken: inout Set<[UInt8]>) -> [UInt8] {
        var candidate = name + Repairer.damagedSuffix
        var n = 2
        while taken.contains(candidate) {
            candidate = name + Repairer.damagedSuffix + Array("-\(n)".utf8)
            n += 1
        }
        taken.insert(candidate)
        return candidate
    }
}
