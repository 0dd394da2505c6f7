// Benchmarks of snap's hot paths: chunking, hashing, compression, encryption and the
// in-memory blob index.
//
// Every benchmark works on a fixed input built once in its `setup` closure, outside the
// measured region, from a seeded generator, so that every run and every machine measures
// the same bytes. One measured iteration processes the whole input once; the library's
// `throughput` metric therefore counts inputs per second (see README.md for the
// conversion to bytes per second).

import Benchmark
import SnapChunker
import SnapCompression
import SnapCrypto
import SnapCore
import SnapEngine
import SnapRepository
import SnapStorage

// MARK: - Configuration

private let mebibyte = 1 << 20

/// Time only: for the pure hash functions, which allocate nothing but their 32-byte result.
private let timeMetrics: [BenchmarkMetric] = [.wallClock, .throughput]

/// Time plus the exact number of allocations: for the paths that handle buffers.
///
/// `peakMemoryResident` is left out here on purpose: sampling it starts a thread whose own
/// 16-20 allocations per iteration would be counted too, hiding the real count (0 to 2).
private let allocationMetrics: [BenchmarkMetric] = timeMetrics + [.mallocCountTotal]

/// Time, allocations and resident memory: for the index, whose footprint is the point.
private let indexMetrics: [BenchmarkMetric] = timeMetrics + [.mallocCountTotal, .peakMemoryResident]

/// The resident-memory sampler's own allocations vary by a few from one iteration to the
/// next, so a benchmark that samples memory gets this absolute slack on its allocation
/// count instead of the default 5 % (one allocation per lookup would still add 1000).
private func samplerAllocationSlack() -> [BenchmarkMetric: BenchmarkThresholds] {
    [.mallocCountTotal: BenchmarkThresholds(absolute: [.p25: 32, .p50: 32, .p75: 32])]
}

private func configuration(_ metrics: [BenchmarkMetric],
                           scalingFactor: BenchmarkScalingFactor = .one,
                           thresholds: [BenchmarkMetric: BenchmarkThresholds]? = nil) -> Benchmark.Configuration {
    Benchmark.Configuration(metrics: metrics, warmupIterations: 3, scalingFactor: scalingFactor,
                            maxDuration: .seconds(2), maxIterations: 10_000, thresholds: thresholds)
}

// MARK: - Deterministic inputs

/// SplitMix64: a small, fast generator with a fixed seed, so the inputs never change.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// `count` incompressible bytes.
func pseudoRandomBytes(count: Int, seed: UInt64) -> [UInt8] {
    var generator = SeededGenerator(seed: seed)
    var bytes = [UInt8](repeating: 0, count: count)
    var index = 0
    while index < count {
        var word = generator.next()
        for _ in 0..<min(8, count - index) {
            bytes[index] = UInt8(truncatingIfNeeded: word)
            word >>= 8
            index += 1
        }
    }
    return bytes
}

/// `count` bytes that look like prose: invented lower-case words drawn from a vocabulary
/// with a skewed (roughly Zipf-like) frequency, separated by spaces, with sentence ends
/// and line breaks. zstd compresses it by a few times, like ordinary text files.
func textLikeBytes(count: Int, seed: UInt64) -> [UInt8] {
    var generator = SeededGenerator(seed: seed)
    // Common letters first; the letter pick below favours the front of the list.
    let letters = Array("etaoinshrdlcumwfgypbvkjxqz".utf8)
    var vocabulary: [[UInt8]] = []
    for _ in 0..<4096 {
        let length = 1 + Int(generator.next() % 6) + Int(generator.next() % 6)
        var word: [UInt8] = []
        for _ in 0..<length {
            let a = Int(generator.next() % UInt64(letters.count))
            let b = Int(generator.next() % UInt64(letters.count))
            word.append(letters[min(a, b)])
        }
        vocabulary.append(word)
    }

    var text: [UInt8] = []
    text.reserveCapacity(count + 64)
    var wordsInSentence = 0
    var sentencesInLine = 0
    while text.count < count {
        // The cube of a uniform number in [0, 1) puts most picks near the front.
        let u = Double(generator.next() >> 11) / Double(1 << 53)
        let word = vocabulary[Int(u * u * u * Double(vocabulary.count))]
        text.append(contentsOf: word)
        wordsInSentence += 1
        if wordsInSentence >= 6 + Int(generator.next() % 14) {
            text.append(UInt8(ascii: "."))
            wordsInSentence = 0
            sentencesInLine += 1
            if sentencesInLine >= 3 {
                text.append(UInt8(ascii: "\n"))
                sentencesInLine = 0
                continue
            }
        }
        text.append(UInt8(ascii: " "))
    }
    return Array(text.prefix(count))
}

/// Fixed keys: the benchmarks need realistic key material, not secret key material.
private let benchmarkKeys = MasterKeys(
    encryption: pseudoRandomBytes(count: 32, seed: 101),
    id: pseudoRandomBytes(count: 32, seed: 102),
    chunker: pseudoRandomBytes(count: 32, seed: 103)
)

// MARK: - Fixtures

struct ChunkerFixture {
    let chunker: Chunker
    let data: [UInt8]
}

struct HashFixture {
    let data: [UInt8]
    let key: [UInt8]
}

final class CompressFixture {
    let compressor: ZstdCompressor
    let input: [UInt8]
    /// Reused between iterations so that only zstd's work is measured.
    var output: [UInt8]

    init(compressor: ZstdCompressor, input: [UInt8]) {
        self.compressor = compressor
        self.input = input
        output = []
        output.reserveCapacity(input.count + input.count / 64 + 1024)
    }
}

struct DecompressFixture {
    let decompressor: ZstdDecompressor
    let frame: [UInt8]
    let length: Int
}

final class SealFixture {
    let cipher: AESGCM
    let plaintext: [UInt8]
    var nonce: [UInt8]
    var counter: UInt64 = 0
    /// Reused between iterations: capacity for ciphertext and tag is reserved once.
    var output: [UInt8]

    init(cipher: AESGCM, plaintext: [UInt8]) {
        self.cipher = cipher
        self.plaintext = plaintext
        nonce = [UInt8](repeating: 0, count: AESGCM.nonceLength)
        output = []
        output.reserveCapacity(plaintext.count + AESGCM.tagLength)
    }

    /// A fresh nonce per message, as real use requires (a counter in the last 8 bytes).
    func advanceNonce() {
        counter &+= 1
        var value = counter
        for i in 4..<AESGCM.nonceLength {
            nonce[i] = UInt8(truncatingIfNeeded: value)
            value >>= 8
        }
    }
}

struct IndexFixture {
    let index: BlobIndex
    /// Entries known to be in the index, in random order; only their IDs are used.
    let probes: [PackEntry]
}

/// A `BlobIndex` holding `blobCount` synthetic blobs, laid out as a real repository would
/// be: 16 blobs of about 1 MiB to a 16 MiB pack, 64 packs to an index file.
func makeIndexFixture(blobCount: Int, probeCount: Int, seed: UInt64) -> IndexFixture {
    var generator = SeededGenerator(seed: seed)
    let blobsPerPack = 16
    let packsPerIndexFile = 64
    var packs: [IndexedPack] = []
    packs.reserveCapacity(blobCount / blobsPerPack + 1)
    var remaining = blobCount
    while remaining > 0 {
        let n = min(blobsPerPack, remaining)
        var entries: [PackEntry] = []
        entries.reserveCapacity(n)
        var offset: UInt32 = 0
        for _ in 0..<n {
            let rawLength = UInt32(512 << 10) + UInt32(truncatingIfNeeded: generator.next() % UInt64(1 << 20))
            let length = rawLength / 2 + UInt32(AESGCM.tagLength)
            let id = (generator.next(), generator.next(), generator.next(), generator.next())
            entries.append(PackEntry(type: .data, id: .init(raw: .init(w0: id.0, w1: id.1, w2: id.2, w3: id.3)),
                                     offset: offset, length: length, rawLength: rawLength))
            offset += length
        }
        let packID = (generator.next(), generator.next(), generator.next(), generator.next())
        var salt = [UInt8](repeating: 0, count: 24)
        for i in salt.indices { salt[i] = UInt8(truncatingIfNeeded: generator.next()) }
        packs.append(IndexedPack(id: .init(raw: .init(w0: packID.0, w1: packID.1, w2: packID.2, w3: packID.3)),
                                 salt: salt, size: Int(offset), entries: entries))
        remaining -= n
    }

    var files: [IndexFile] = []
    var start = 0
    while start < packs.count {
        let end = min(start + packsPerIndexFile, packs.count)
        files.append(IndexFile(packs: Array(packs[start..<end])))
        start = end
    }

    let index = BlobIndex()
    index.load(files)
    precondition(index.count == blobCount, "synthetic blob IDs collided")

    var probes: [PackEntry] = []
    probes.reserveCapacity(probeCount)
    for _ in 0..<probeCount {
        let pack = packs[Int(generator.next() % UInt64(packs.count))]
        let entry = pack.entries[Int(generator.next() % UInt64(pack.entries.count))]
        precondition(index.lookup(entry.id)?.entry == entry, "a probe is missing from the index")
        probes.append(entry)
    }
    return IndexFixture(index: index, probes: probes)
}

// MARK: - Benchmarks

let benchmarks: @Sendable () -> Void = {
    // FastCDC cut-point search over 16 MiB of random data with the default
    // 128 KiB / 256 KiB / 4 MiB parameters: the whole buffer, chunk after chunk.
    Benchmark("chunker", configuration: configuration(allocationMetrics)) { benchmark, fixture in
        for _ in benchmark.scaledIterations {
            fixture.data.withUnsafeBytes { all in
                var offset = 0
                var chunks = 0
                while offset < all.count {
                    offset += fixture.chunker.cut(UnsafeRawBufferPointer(rebasing: all[offset...]), isFinal: true)
                    chunks += 1
                }
                blackHole(chunks)
            }
        }
    } setup: { () -> ChunkerFixture in
        let chunker = Chunker(gear: benchmarkKeys.gearTable(), parameters: .default)
        let data = pseudoRandomBytes(count: 16 * mebibyte, seed: 1)
        let lengths = chunker.chunkLengths(of: data)
        precondition(lengths.reduce(0, +) == data.count && lengths.count > 1, "chunker did not split the buffer")
        return ChunkerFixture(chunker: chunker, data: data)
    }

    // A blob's ID: HMAC-SHA256 of 1 MiB under the ID key.
    Benchmark("blob-id", configuration: configuration(timeMetrics)) { benchmark, fixture in
        for _ in benchmark.scaledIterations {
            blackHole(fixture.data.withUnsafeBytes { HMACSHA256.authenticate($0, key: fixture.key) })
        }
    } setup: { () -> HashFixture in
        HashFixture(data: pseudoRandomBytes(count: mebibyte, seed: 2), key: benchmarkKeys.id)
    }

    // Plain SHA-256 of 16 MiB (one pack), as for pack and file IDs.
    Benchmark("sha256", configuration: configuration(timeMetrics)) { benchmark, fixture in
        for _ in benchmark.scaledIterations {
            blackHole(fixture.data.withUnsafeBytes { SHA256.hash($0) })
        }
    } setup: { () -> HashFixture in
        HashFixture(data: pseudoRandomBytes(count: 16 * mebibyte, seed: 3), key: [])
    }

    // zstd level 3 (the repository default) of 1 MiB of text-like data into a reused buffer.
    Benchmark("zstd-compress", configuration: configuration(allocationMetrics)) { benchmark, fixture in
        for _ in benchmark.scaledIterations {
            fixture.output.removeAll(keepingCapacity: true)
            let smaller = try fixture.input.withUnsafeBytes {
                try fixture.compressor.compress($0, appendingTo: &fixture.output)
            }
            blackHole(smaller)
            blackHole(fixture.output.count)
        }
    } setup: { () -> CompressFixture in
        let fixture = CompressFixture(compressor: try ZstdCompressor(level: 3),
                                      input: textLikeBytes(count: mebibyte, seed: 4))
        let smaller = try fixture.input.withUnsafeBytes {
            try fixture.compressor.compress($0, appendingTo: &fixture.output)
        }
        precondition(smaller, "the text-like input did not compress")
        return fixture
    }

    // zstd decompression of the frame produced from the same 1 MiB of text-like data
    // (the result is a new 1 MiB array each time, as in restore).
    Benchmark("zstd-decompress", configuration: configuration(allocationMetrics)) { benchmark, fixture in
        for _ in benchmark.scaledIterations {
            blackHole(try fixture.decompressor.decompress(fixture.frame, length: fixture.length))
        }
    } setup: { () -> DecompressFixture in
        let input = textLikeBytes(count: mebibyte, seed: 4)
        let frame = try ZstdCompressor(level: 3).compress(input)
        let decompressor = try ZstdDecompressor()
        let roundTrip = try decompressor.decompress(frame, length: input.count)
        precondition(roundTrip == input, "zstd round trip failed")
        return DecompressFixture(decompressor: decompressor, frame: frame, length: input.count)
    }

    // AES-256-GCM encryption of 1 MiB into a reused output buffer, a new nonce each time.
    Benchmark("aes-gcm-seal", configuration: configuration(allocationMetrics)) { benchmark, fixture in
        for _ in benchmark.scaledIterations {
            fixture.advanceNonce()
            fixture.output.removeAll(keepingCapacity: true)
            try fixture.plaintext.withUnsafeBytes {
                try fixture.cipher.seal($0, nonce: fixture.nonce, appendingTo: &fixture.output)
            }
            blackHole(fixture.output.count)
        }
    } setup: { () -> SealFixture in
        SealFixture(cipher: try AESGCM(key: benchmarkKeys.encryption),
                    plaintext: pseudoRandomBytes(count: mebibyte, seed: 5))
    }

    // Index lookups: a BlobIndex holding 1,000,000 blobs; one measured iteration looks up
    // 1000 IDs known to be present (scaling factor .kilo: one scaled iteration per lookup).
    let indexConfiguration = configuration(indexMetrics, scalingFactor: .kilo, thresholds: samplerAllocationSlack())
    Benchmark("index-lookup", configuration: indexConfiguration) { benchmark, fixture in
        for i in benchmark.scaledIterations {
            blackHole(fixture.index.lookup(fixture.probes[i].id))
        }
    } setup: { () -> IndexFixture in
        makeIndexFixture(blobCount: 1_000_000, probeCount: BenchmarkScalingFactor.kilo.rawValue, seed: 6)
    }

    // Pack writing: 16 blobs of 1 MiB of text-like data through a BlobSaver into an in-memory
    // backend (compress, encrypt, pack, SHA-256 name, index file), i.e. one full pack.
    Benchmark("pack-write", configuration: configuration(timeMetrics)) { benchmark, fixture in
        for _ in benchmark.scaledIterations {
            let saver = BlobSaver(repository: fixture.repository)
            for (id, blob) in fixture.blobs { try saver.save(.data, id: id, plaintext: blob) }
            blackHole(try saver.finish().packs)
        }
    } setup: { () -> PackWriteFixture in
        var options = Repository.InitOptions()
        options.keyCost = .init(n: 1024, r: 8, p: 1)
        let repository = try Repository.initialize(backend: MemoryBackend(), password: "bench", options: options,
                                                   hostname: "bench", username: "bench", now: "2025-01-01T00:00:00Z")
        let text = textLikeBytes(count: 16 * mebibyte, seed: 8)
        let blobs = (0..<16).map { i -> (BlobID, [UInt8]) in
            let blob = Array(text[(i * mebibyte)..<((i + 1) * mebibyte)])
            return (repository.keys.blobID(of: blob), blob)
        }
        return PackWriteFixture(repository: repository, blobs: blobs)
    }

    // Tree encoding and decoding: a directory of 1000 files, each with two content blobs,
    // as the archiver writes it and the restorer reads it.
    Benchmark("tree-encode", configuration: configuration(timeMetrics)) { benchmark, fixture in
        for _ in benchmark.scaledIterations {
            let bytes = fixture.tree.encoded()
            blackHole(try Tree.decode(bytes).nodes.count)
        }
    } setup: { () -> TreeFixture in
        var nodes: [Node] = []
        for i in 0..<1000 {
            let seconds = Int64(1_700_000_000 + i)
            let first = BlobID(raw: RawID(w0: UInt64(i), w1: 1, w2: 2, w3: 3))
            let second = BlobID(raw: RawID(w0: UInt64(i), w1: 4, w2: 5, w3: 6))
            var node = Node(name: Array("file-\(i).swift".utf8), type: .file)
            node.mode = 0o644
            node.uid = 1000
            node.gid = 1000
            node.user = "dev"
            node.group = "dev"
            node.mtime = Timestamp(seconds: seconds, nanoseconds: 123_456_789)
            node.ctime = Timestamp(seconds: seconds, nanoseconds: 987_654_321)
            node.inode = UInt64(1_000_000 + i)
            node.device = 2049
            node.size = UInt64(4096 * i)
            node.content = [first, second]
            nodes.append(node)
        }
        return TreeFixture(tree: Tree(nodes: nodes))
    }
}

final class PackWriteFixture: @unchecked Sendable {
    let repository: Repository
    let blobs: [(BlobID, [UInt8])]
    init(repository: Repository, blobs: [(BlobID, [UInt8])]) { self.repository = repository; self.blobs = blobs }
}

final class TreeFixture: @unchecked Sendable {
    let tree: Tree
    init(tree: Tree) { self.tree = tree }
}
