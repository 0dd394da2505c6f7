import CZlib

/// Failures of zlib's deflate.
public enum DeflateError: Error, Equatable, CustomStringConvertible {
    /// zlib returned `code` from `operation` (`Z_MEM_ERROR`, `Z_STREAM_ERROR`, …).
    case zlib(operation: String, code: Int32)

    public var description: String {
        switch self {
        case let .zlib(operation, code): return "zlib \(operation) failed (code \(code))"
        }
    }
}

/// A raw deflate stream (RFC 1951: no zlib or gzip wrapper, as zip entries hold it), over
/// zlib's `deflate`. One stream at a time; `reset` starts the next one with the same
/// buffers. Not thread-safe.
public final class Deflater {
    private let stream: UnsafeMutablePointer<z_stream>
    private var scratch = [UInt8](repeating: 0, count: 1 << 16)

    /// - Parameter level: zlib's level, 0…9, or -1 for its default (6).
    /// - Throws: `DeflateError` when zlib cannot set up the stream.
    public init(level: Int32 = -1) throws {
        stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // windowBits -15: raw deflate with a 32 KiB window; memLevel 8 is zlib's default.
        let code = deflateInit2_(stream, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard code == Z_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            throw DeflateError.zlib(operation: "deflateInit2", code: code)
        }
    }

    deinit {
        deflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Compresses `input` and appends what deflate produces so far to `output` (deflate
    /// may hold some back until more input or `finish`).
    public func compress(_ input: UnsafeRawBufferPointer, appendingTo output: inout [UInt8]) throws {
        guard let base = input.baseAddress, !input.isEmpty else { return }
        var offset = 0
        while offset < input.count {
            // avail_in is 32 bits: feed at most 1 GiB a call.
            let piece = min(input.count - offset, 1 << 30)
            stream.pointee.next_in = UnsafeMutablePointer(mutating: base.advanced(by: offset).assumingMemoryBound(to: UInt8.self))
            stream.pointee.avail_in = UInt32(piece)
            try run(flush: Z_NO_FLUSH, appendingTo: &output)
            offset += piece
        }
    }

    /// Ends the stream: appends the rest of the compressed data to `output`.
    public func finish(appendingTo output: inout [UInt8]) throws {
        stream.pointee.next_in = nil
        stream.pointee.avail_in = 0
        try run(flush: Z_FINISH, appendingTo: &output)
    }

    /// Starts a new stream with the same settings (after `finish`).
    public func reset() throws {
        let code = deflateReset(stream)
        guard code == Z_OK else { throw DeflateError.zlib(operation: "deflateReset", code: code) }
    }

    /// The most bytes deflate can turn `size` input bytes into (zlib's `compressBound`,
    /// which also counts a zlib wrapper, so it holds for raw deflate with room to spare).
    public static func bound(_ size: UInt64) -> UInt64 {
        UInt64(compressBound(UInt(clamping: size)))
    }

    /// Runs deflate until it has taken all input (`Z_NO_FLUSH`) or ended the stream (`Z_FINISH`).
    private func run(flush: Int32, appendingTo output: inout [UInt8]) throws {
        let capacity = scratch.count
        try scratch.withUnsafeMutableBufferPointer { buffer in
            guard let out = buffer.baseAddress else { return }
            while true {
                stream.pointee.next_out = out
                stream.pointee.avail_out = UInt32(capacity)
                let code = deflate(stream, flush)
                guard code == Z_OK || code == Z_STREAM_END || code == Z_BUF_ERROR else {
                    throw DeflateError.zlib(operation: "deflate", code: code)
                }
                let produced = capacity - Int(stream.pointee.avail_out)
                if produced > 0 { output.append(contentsOf: UnsafeBufferPointer(start: out, count: produced)) }
                // zlib's contract: room left in the output means all input was taken.
                if flush == Z_FINISH ? code == Z_STREAM_END : stream.pointee.avail_out != 0 { return }
                if code == Z_BUF_ERROR && produced == 0 {
                    throw DeflateError.zlib(operation: "deflate", code: code)  // no progress possible
                }
            }
        }
    }
}

/// A running CRC-32 (ISO 3309, as zip and gzip use it), over zlib's `crc32_z`.
public struct CRC32: Equatable {
    /// The checksum of everything passed to `update` so far (0 before any input).
    public private(set) var value: UInt32 = 0

    public init() {}

    /// Adds `bytes` to the checksum.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        value = UInt32(truncatingIfNeeded: crc32_z(UInt(value), base.assumingMemoryBound(to: UInt8.self), bytes.count))
    }

    /// Adds `bytes` to the checksum.
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }
}
