import CZstd

/// Failures of zstd compression or decompression.
public enum CompressionError: Error, Equatable, CustomStringConvertible {
    /// zstd reported an error (corrupt input, or a size that does not match).
    case zstd(operation: String, detail: String)
    /// Decompression produced a different number of bytes than the recorded length.
    case lengthMismatch(expected: Int, actual: Int)
    /// A compression level outside what this zstd accepts (`ZstdCompressor.levels`).
    case levelOutOfRange(level: Int, range: ClosedRange<Int>)

    public var description: String {
        switch self {
        case let .zstd(operation, detail): return "zstd \(operation) failed: \(detail)"
        case let .lengthMismatch(expected, actual):
            return "decompressed to \(actual) bytes, expected \(expected)"
        case let .levelOutOfRange(level, range):
            return "compression level \(level) is outside zstd's range \(range.lowerBound)…\(range.upperBound)"
        }
    }
}

private func check(_ code: Int, _ operation: String) throws -> Int {
    if ZSTD_isError(code) != 0 {
        throw CompressionError.zstd(operation: operation, detail: String(cString: ZSTD_getErrorName(code)))
    }
    return code
}

/// A zstd compressor with a reusable context (one per worker; not thread-safe).
public final class ZstdCompressor {
    private let context: OpaquePointer
    /// The compression level (1…19 in practice; 3 is zstd's default).
    public let level: Int32

    public init(level: Int32) throws {
        guard let ctx = ZSTD_createCCtx() else { throw CompressionError.zstd(operation: "ZSTD_createCCtx", detail: "out of memory") }
        context = ctx
        self.level = level
    }

    deinit { ZSTD_freeCCtx(context) }

    /// The levels the linked zstd accepts: `ZSTD_minCLevel()…ZSTD_maxCLevel()`
    /// (-131072…22 for zstd 1.5). Negative levels trade ratio for speed; 0 means zstd's default.
    public static var levels: ClosedRange<Int> { Int(ZSTD_minCLevel())...Int(ZSTD_maxCLevel()) }

    /// Checks that `level` is one the linked zstd accepts (zstd itself would clamp it silently).
    /// - Throws: `CompressionError.levelOutOfRange` naming the level and the range.
    public static func validate(level: Int) throws(CompressionError) {
        guard levels.contains(level) else { throw CompressionError.levelOutOfRange(level: level, range: levels) }
    }

    /// Compresses `input` and appends the frame to `output`, unless the frame would be at
    /// least `input.count` bytes long, in which case nothing is appended and `false` is returned.
    public func compress(_ input: UnsafeRawBufferPointer, appendingTo output: inout [UInt8]) throws -> Bool {
        let frame = try compressedFrame(input)
        guard frame.count < input.count else { return false }
        if output.isEmpty { output = frame } else { output += frame }
        return true
    }

    /// Compresses `input` into a new array (always, even when it does not get smaller).
    public func compress(_ input: [UInt8]) throws -> [UInt8] {
        try input.withUnsafeBytes { try compressedFrame($0) }
    }

    /// One frame, in fresh memory that is not zeroed first: zeroing the bound of every
    /// chunk cost 1.7 % of a large file's backup (perf).
    private func compressedFrame(_ input: UnsafeRawBufferPointer) throws -> [UInt8] {
        let bound = ZSTD_compressBound(input.count)
        return try [UInt8](unsafeUninitializedCapacity: bound) { out, count in
            count = try check(ZSTD_compressCCtx(context, out.baseAddress, bound, input.baseAddress, input.count, level), "compress")
        }
    }
}

/// A zstd decompressor with a reusable context (one per worker; not thread-safe).
public final class ZstdDecompressor {
    private let context: OpaquePointer

    public init() throws {
        guard let ctx = ZSTD_createDCtx() else { throw CompressionError.zstd(operation: "ZSTD_createDCtx", detail: "out of memory") }
        context = ctx
    }

    deinit { ZSTD_freeDCtx(context) }

    /// Decompresses one frame whose content is exactly `length` bytes long.
    public func decompress(_ input: UnsafeRawBufferPointer, length: Int) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: length)
        let written: Int = try output.withUnsafeMutableBytes { out in
            try check(ZSTD_decompressDCtx(context, out.baseAddress, length, input.baseAddress, input.count), "decompress")
        }
        guard written == length else { throw CompressionError.lengthMismatch(expected: length, actual: written) }
        return output
    }

    /// Decompresses one frame whose content is exactly `length` bytes long.
    public func decompress(_ input: [UInt8], length: Int) throws -> [UInt8] {
        try input.withUnsafeBytes { try decompress($0, length: length) }
    }

    /// Decompresses everything in `input` (one or more frames) whose decompressed length
    /// is not recorded anywhere else, stopping with an error once the output would pass
    /// `limit` bytes, so that a small hostile frame cannot exhaust memory.
    ///
    /// - Throws: `CompressionError.zstd` for corrupt or truncated input, or when the output
    ///   passes `limit` (operation `decompress (limit)`).
    public func decompress(_ input: UnsafeRawBufferPointer, limit: Int) throws -> [UInt8] {
        ZSTD_DCtx_reset(context, ZSTD_reset_session_only)
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: min(max(input.count * 4, 1 << 16), 1 << 22))
        var source = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        var lastResult = 0
        while true {
            let produced: Int = try chunk.withUnsafeMutableBytes { out in
                var target = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
                lastResult = try check(ZSTD_decompressStream(context, &target, &source), "decompress")
                return target.pos
            }
            guard output.count + produced <= limit else {
                throw CompressionError.zstd(operation: "decompress (limit)", detail: "output larger than \(limit) bytes")
            }
            output += chunk[0..<produced]
            // Done when the input is used up and the last frame is complete; a produced
            // count below the buffer's size with input left means zstd wants more input.
            if source.pos == source.size && produced < chunk.count { break }
        }
        guard lastResult == 0 else {
            throw CompressionError.zstd(operation: "decompress", detail: "input ends inside a frame")
        }
        return output
    }
}

/// The libzstd this process runs with.
public enum ZstdLibrary {
    /// Its version, e.g. `1.5.4`.
    public static var version: String { String(cString: ZSTD_versionString()) }
}
