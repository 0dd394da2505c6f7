import Dispatch
import SnapChunker
import SnapCompression
import SnapCore
import SnapCrypto
import SnapRepository
import SnapStorage
import Synchronization

/// One measured figure of `snap benchmark`.
public struct BenchmarkFigure: Sendable, Codable {
    public var name: String
    /// Throughput in bytes per second (nil for latencies).
    public var bytesPerSecond: Double?
    /// Seconds per operation (latencies).
    public var seconds: Double?
    /// Compressed size ÷ original size (compression only).
    public var ratio: Double?
    public var note: String?

    enum CodingKeys: String, CodingKey { case name, bytesPerSecond = "bytes_per_second", seconds, ratio, note }
}

/// Measures on this machine what a backup spends its time on, so a user can choose a
/// compression level and a connection count (`snap benchmark`).
public enum MachineBenchmark {
    /// CPU-side figures, each on one core: chunking, blob IDs, zstd at `levels`, AES-GCM.
    public static func cpu(levels: [Int] = [1, 3, 6, 9, 15], megabytes: Int = 64) throws -> [BenchmarkFigure] {
        let size = megabytes << 20
        let random = pseudoRandom(count: size, seed: 1)
        let text = textLike(count: min(size, 16 << 20))
        var figures: [BenchmarkFigure] = []

        let keys = try MasterKeys.random()
        let chunker = Chunker(gear: keys.gearTable(), parameters: .default)
        var chunks = 0
        let chunkTime = time { chunks = chunker.chunkLengths(of: random).count }
        let p = chunker.parameters
        let bounds = "\(p.minSize >> 10)K/\(p.averageSize >> 10)K/\(p.maxSize >> 20)M"
        figures.append(.init(name: "chunker (FastCDC, \(bounds))", bytesPerSecond: Double(size) / chunkTime, note: "\(chunks) chunks"))

        let idTime = time {
            random.withUnsafeBytes { all in
                var offset = 0
                while offset < all.count {
                    _ = keys.blobID(of: UnsafeRawBufferPointer(rebasing: all[offset..<min(offset + (1 << 20), all.count)]))
                    offset += 1 << 20
                }
            }
        }
        figures.append(.init(name: "blob ID (HMAC-SHA256)", bytesPerSecond: Double(size) / idTime))

        for level in levels {
            let compressor = try ZstdCompressor(level: Int32(level))
            var compressed = 0
            let t = try time {
                try text.withUnsafeBytes { all in
                    var offset = 0
                    while offset < all.count {
                        var out: [UInt8] = []
                        let piece = UnsafeRawBufferPointer(rebasing: all[offset..<min(offset + (1 << 20), all.count)])
                        compressed += try compressor.compress(piece, appendingTo: &out) ? out.count : piece.count
                        offset += 1 << 20
                    }
                }
            }
            figures.append(.init(name: "zstd level \(level) (text)", bytesPerSecond: Double(text.count) / t,
                                 ratio: Double(compressed) / Double(text.count)))
        }
        let level3 = try ZstdCompressor(level: 3)
        let frame = try level3.compress(Array(text.prefix(1 << 20)))
        let decompressor = try ZstdDecompressor()
        let rounds = max(1, text.count >> 20)
        let dt = try time { for _ in 0..<rounds { _ = try decompressor.decompress(frame, length: 1 << 20) } }
        figures.append(.init(name: "zstd decompression (text)", bytesPerSecond: Double(rounds << 20) / dt))

        let cipher = try AESGCM(key: try SecureRandom.bytes(32))
        var output: [UInt8] = []
        output.reserveCapacity((1 << 20) + 16)
        let nonce = [UInt8](repeating: 0, count: 12)
        let aesTime = try time {
            try random.withUnsafeBytes { all in
                var offset = 0
                while offset < all.count {
                    output.removeAll(keepingCapacity: true)
                    try cipher.seal(UnsafeRawBufferPointer(rebasing: all[offset..<min(offset + (1 << 20), all.count)]), nonce: nonce, appendingTo: &output)
                    offset += 1 << 20
                }
            }
        }
        figures.append(.init(name: "AES-256-GCM", bytesPerSecond: Double(size) / aesTime))
        return figures
    }

    /// Backend figures: upload and download throughput with `connections` transfers at once
    /// (files of `fileSize` bytes), and the latency of a small read and a stat. The test files
    /// are written under `locks/` with random names and removed afterwards.
    public static func backend(_ backend: Backend, connections: Int, files: Int = 8, fileSize: Int = 8 << 20) throws -> [BenchmarkFigure] {
        let names = try (0..<files).map { _ in FileName(.locks, Hex.encode(try SecureRandom.bytes(32))) }
        let payload = pseudoRandom(count: fileSize, seed: 7)
        defer { for name in names { try? backend.delete(name) } }
        let failure = Mutex<(any Error)?>(nil)
        func parallel(_ body: @escaping @Sendable (FileName) throws -> Void) throws -> Double {
            let t = time {
                let next = Mutex(0)
                DispatchQueue.concurrentPerform(iterations: max(1, min(connections, files))) { _ in
                    while true {
                        let i = next.withLock { v -> Int in defer { v += 1 }; return v }
                        guard i < names.count else { return }
                        do { try body(names[i]) } catch { failure.withLock { if $0 == nil { $0 = error } } }
                    }
                }
            }
            if let error = failure.withLock({ $0 }) { throw error }
            return t
        }
        let up = try parallel { try backend.write($0, data: payload) }
        let down = try parallel { _ = try backend.read($0, range: nil) }
        var smallReads: [Double] = [], stats: [Double] = []
        for name in names.prefix(5) {
            smallReads.append(try time { _ = try backend.read(name, range: 0..<4096) })
            stats.append(try time { _ = try backend.stat(name) })
        }
        let total = Double(files * fileSize)
        return [
            .init(name: "upload (\(connections) connections)", bytesPerSecond: total / up),
            .init(name: "download (\(connections) connections)", bytesPerSecond: total / down),
            .init(name: "latency: 4 KiB range read", seconds: median(smallReads)),
            .init(name: "latency: stat", seconds: median(stats)),
        ]
    }

    private static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }

    private static func time(_ body: () throws -> Void) rethrows -> Double {
        let start = Clock.now()
        try body()
        return max(Clock.now() - start, 1e-9)
    }

    static func pseudoRandom(count: Int, seed: UInt64) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var state = seed
        out.withUnsafeMutableBytes { raw in
            let words = raw.count / 8
            for i in 0..<words {
                state &+= 0x9E37_79B9_7F4A_7C15
                var z = state
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                raw.storeBytes(of: z ^ (z >> 31), toByteOffset: i * 8, as: UInt64.self)
            }
        }
        return out
    }

    /// Text-like bytes: words from a small vocabulary in seeded order, as source code or logs compress.
    static func textLike(count: Int) -> [UInt8] {
        let words = ["the", "backup", "snapshot", "file", "return", "struct", "func", "let", "var", "if", "else", "for",
                     "while", "error", "repository", "index", "pack", "blob", "tree", "self", "init", "throws", "{", "}", "(", ")"]
        var out: [UInt8] = []
        out.reserveCapacity(count + 16)
        var state: UInt64 = 42
        while out.count < count {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            out.append(contentsOf: words[Int(state >> 59) % words.count].utf8)
            out.append(state & 0x700 == 0 ? 10 : 32)
        }
        return Array(out.prefix(count))
    }
}
