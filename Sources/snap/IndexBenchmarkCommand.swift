import ArgumentParser
import Foundation
import SnapCore
import SnapRepository

/// A hidden command for measuring the blob index on a synthetic repository
/// (docs/benchmarks/analysis.md, "Index at scale"): writes index files for N made-up blobs
/// (no pack data), or opens the index and times lookups of present and absent IDs.
struct IndexBenchmarkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index-benchmark", abstract: "Measure the blob index on a synthetic repository.", shouldDisplay: false)

    @OptionGroup(title: "Global options") var global: GlobalOptions

    @Option(parsing: .unconditional, help: "Write index files naming this many synthetic blobs (--per-pack per pack, 1,024 packs per file).")
    var generate: Int?

    @Option(parsing: .unconditional, help: "With --generate, the blobs in each synthetic pack.")
    var perPack = 64

    @Option(parsing: .unconditional, help: "With --generate, also create each pack as a sparse file of its indexed size under this local repository folder (so prune sees the packs stored).")
    var sparsePacks: String?

    @Option(parsing: .unconditional, help: "After loading the index, look up this many present and this many absent IDs.")
    var lookups = 1_000_000

    @Option(parsing: .unconditional, help: "The number of synthetic blobs the repository holds (for choosing present IDs).")
    var blobs = 0

    @Option(parsing: .unconditional, help: "Instead, insert this many synthetic blob IDs into prune's used-blob set (BlobIDSet) and report.")
    var idSet: Int?

    @Flag(help: "With --id-set, use a Set<BlobID> (as prune did before) for comparison.")
    var swiftSet = false

    @Flag(help: "With --id-set, load the index and use an IndexedBlobSet (one bit per blob of the mapped table).")
    var indexed = false

    func run() throws {
        if let idSet, !indexed { Self.measureIDSet(idSet, swift: swiftSet); return }
        try reportingErrors {
            let repository = try global.openRepository()
            if let idSet { try Self.measureIndexedSet(idSet, global: global, repository: repository); return }
            if let generate { try Self.generate(generate, perPack: max(1, perPack), sparsePacks: sparsePacks, into: repository); return }
            let started = Date()
            try global.loadIndex(repository)
            let loaded = Date().timeIntervalSince(started)
            var state: UInt64 = 42
            var found = 0
            let present = Date()
            for _ in 0..<(blobs > 0 ? lookups : 0) {
                if repository.index.contains(Self.blobID(Int(splitmix(&state) % UInt64(blobs)))) { found += 1 }
            }
            let presentSeconds = Date().timeIntervalSince(present)
            // The same number of present lookups again: every bucket they meet is checked by now.
            let again = Date()
            for _ in 0..<(blobs > 0 ? lookups : 0) {
                if repository.index.contains(Self.blobID(Int(splitmix(&state) % UInt64(blobs)))) { found += 1 }
            }
            let againSeconds = Date().timeIntervalSince(again)
            let absent = Date()
            var falsePositives = 0
            for _ in 0..<lookups where repository.index.contains(Self.blobID(Int.max - Int(splitmix(&state) >> 2))) {
                falsePositives += 1
            }
            let absentSeconds = Date().timeIntervalSince(absent)
            let perLookup = { (seconds: Double) in seconds * 1e6 / Double(max(1, blobs > 0 ? lookups : 0)) }
            Output.line(String(format: "blobs %d  load %.3f s  present %.3f µs/lookup, again %.3f (%d found)  absent %.3f µs/lookup (%d found)",
                               repository.index.count, loaded, perLookup(presentSeconds), perLookup(againSeconds), found,
                               absentSeconds * 1e6 / Double(max(1, lookups)), falsePositives))
        }
    }

    /// Inserts `count` synthetic IDs, each twice (as prune's walk meets shared blobs), into a
    /// `BlobIDSet` or a `Set<BlobID>`; peak RSS is measured around the process.
    private static func measureIDSet(_ count: Int, swift: Bool) {
        let started = Date()
        var members = 0
        if swift {
            var set: Set<BlobID> = []
            for n in 0..<count { set.insert(blobID(n)); set.insert(blobID(n / 2)) }
            members = set.count
        } else {
            var set = BlobIDSet()
            for n in 0..<count { set.insert(blobID(n)); set.insert(blobID(n / 2)) }
            set.consolidate()
            members = set.count
        }
        Output.line(String(format: "%@ of %d IDs built in %.2f s", swift ? "Set<BlobID>" : "BlobIDSet", members,
                           Date().timeIntervalSince(started)))
    }

    /// As `measureIDSet`, into an `IndexedBlobSet` numbered by the repository's index.
    private static func measureIndexedSet(_ count: Int, global: GlobalOptions, repository: Repository) throws {
        try global.loadIndex(repository)
        let started = Date()
        var set = IndexedBlobSet(numberingBy: repository.index)
        for n in 0..<count { set.insertLater(blobID(n)); set.insertLater(blobID(n / 2)) }
        set.consolidate()
        Output.line(String(format: "IndexedBlobSet of %d IDs (index: %d blobs) built in %.2f s", set.count, repository.index.count,
                           Date().timeIntervalSince(started)))
    }

    /// The synthetic blob number `n`'s ID.
    static func blobID(_ n: Int) -> BlobID {
        var state = UInt64(n) &* 0x9E37_79B9_7F4A_7C15 ^ 0xB10B
        return BlobID(raw: RawID(w0: splitmix(&state), w1: splitmix(&state), w2: splitmix(&state), w3: splitmix(&state)))
    }

    private static func generate(_ count: Int, perPack: Int, sparsePacks: String?, into repository: Repository) throws {
        let perFile = 1024 * perPack
        var n = 0, pack = 0
        while n < count {
            var packs: [IndexedPack] = []
            while n < count && packs.count < perFile / perPack {
                let entries = (n..<min(count, n + perPack)).map { i in
                    PackEntry(type: i % 50 == 0 ? .tree : .data, id: blobID(i), offset: UInt32((i % perPack) * 300_000),
                              length: 280_000, rawLength: 290_000)
                }
                var state = UInt64(pack) ^ 0x5EED_0000_0000
                let id = PackID(raw: RawID(w0: splitmix(&state), w1: splitmix(&state), w2: splitmix(&state), w3: splitmix(&state)))
                packs.append(IndexedPack(id: id, salt: [UInt8](repeating: 7, count: 24), size: perPack * 300_000, entries: entries))
                if let sparsePacks { try makeSparseFile("\(sparsePacks)/data/\(id.hex.prefix(2))/\(id.hex)", size: perPack * 300_000) }
                n += entries.count
                pack += 1
            }
            _ = try repository.saveFile(.index, plaintext: IndexFile(packs: packs).encoded())
        }
        Output.line("wrote \(count) blobs in \(pack) packs")
    }
}

/// An empty file of `size` bytes that occupies no disk blocks.
private func makeSparseFile(_ path: String, size: Int) throws {
    let folder = String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
    for level in [String(folder[..<(folder.lastIndex(of: "/") ?? folder.endIndex)]), folder] {
        guard mkdir(level, 0o755) == 0 || errno == EEXIST else { throw ValidationError("cannot create \(level): \(String(cString: strerror(errno)))") }
    }
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else { throw ValidationError("cannot create \(path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    guard ftruncate(fd, off_t(size)) == 0 else { throw ValidationError("cannot size \(path): \(String(cString: strerror(errno)))") }
}

/// splitmix64: a fast, well-mixed sequence for synthetic IDs.
private func splitmix(_ state: inout UInt64) -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}
