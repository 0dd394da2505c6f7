import SnapCore
import SnapRepository

/// A file's content as `snap dump` reads it: its blobs in order, one at a time.
struct DumpContent {
    /// The file's snapshot path, for errors.
    let path: [UInt8]
    let ids: [BlobID]
    /// The size the node records.
    let size: UInt64
    /// Loads one blob's plaintext.
    let load: (BlobID) throws -> [UInt8]
    /// A blob's plaintext length from the index, without loading it.
    let length: (BlobID) -> Int?

    /// Calls `body` with each blob's bytes in order.
    /// - Throws: `EngineError.treeDamaged` when they do not add up to `size`.
    func forEachBlob(_ body: ([UInt8]) throws -> Void) throws {
        var total: UInt64 = 0
        for id in ids {
            let bytes = try load(id)
            total += UInt64(bytes.count)
            try body(bytes)
        }
        try check(total)
    }

    /// Where the file has holes, by this rule: a blob that occurs at least twice in the
    /// content list is loaded once, and if it is all zeros, every range it covers is a hole
    /// (adjacent ones merged). Runs of zeros elsewhere, such as a hole inside a chunk that
    /// occurs once, are not found: they are written as zeros (the same bytes, less sparse).
    /// Zero runs long enough to matter come out of the chunker as repeated blobs of the
    /// largest chunk size, so one extra blob load finds them without reading the file twice.
    ///
    /// Holes are then shrunk to 512-byte boundaries (a hole that reaches the end of the file
    /// keeps its end), so that every data region but the last is whole tar blocks: GNU tar
    /// reads each region of a sparse member from whole blocks and drops the rest of a
    /// partial one, libarchive reads the regions back to back; with whole blocks both agree.
    ///
    /// - Returns: `nil` when no blob qualifies, or when the index does not know every blob's
    ///   length (the plain path then reads the file and reports what is wrong).
    func sparseLayout() throws -> SparseLayout? {
        var seen: Set<BlobID> = [], repeated: Set<BlobID> = []
        for id in ids where !seen.insert(id).inserted { repeated.insert(id) }
        guard !repeated.isEmpty else { return nil }
        var zero: Set<BlobID> = []
        for id in repeated {
            let bytes = try load(id)
            if !bytes.isEmpty && bytes.withUnsafeBytes(Restorer.isAllZero) { zero.insert(id) }
        }
        guard !zero.isEmpty else { return nil }
        var runs: [Range<UInt64>] = [], offset: UInt64 = 0
        for id in ids {
            guard let count = length(id) else { return nil }
            let end = offset + UInt64(count)
            if zero.contains(id) {
                if let last = runs.last, last.upperBound == offset { runs[runs.count - 1] = last.lowerBound..<end } else { runs.append(offset..<end) }
            }
            offset = end
        }
        guard offset == size else { return nil }
        let block = UInt64(TarWriter.blockSize)
        let holes: [Range<UInt64>] = runs.compactMap { run in
            let start = (run.lowerBound + block - 1) / block * block
            let end = run.upperBound == size ? size : run.upperBound / block * block
            return start < end ? start..<end : nil
        }
        return holes.isEmpty ? nil : SparseLayout(size: size, holes: holes, zeroBlobs: zero)
    }

    /// Calls `body` with the bytes outside the layout's holes, in order: other blobs as
    /// loaded, and the parts of all-zero blobs that the holes leave out as zeros (those
    /// blobs are not loaded again).
    /// - Throws: `EngineError.treeDamaged` when a blob's length differs from the index's.
    func forEachData(_ layout: SparseLayout, _ body: ([UInt8]) throws -> Void) throws {
        var total: UInt64 = 0, offset: UInt64 = 0, hole = 0
        for id in ids {
            let expected = UInt64(length(id) ?? 0)
            let range = offset..<offset + expected
            offset = range.upperBound
            if layout.zeroBlobs.contains(id) {
                while hole < layout.holes.count && layout.holes[hole].upperBound <= range.lowerBound { hole += 1 }
                var inHoles: UInt64 = 0, next = hole
                while next < layout.holes.count && layout.holes[next].lowerBound < range.upperBound {
                    inHoles += UInt64(layout.holes[next].clamped(to: range).count)
                    next += 1
                }
                total += expected
                if expected > inHoles { try body([UInt8](repeating: 0, count: Int(expected - inHoles))) }
                continue
            }
            let bytes = try load(id)
            guard bytes.count == expected else {
                throw EngineError.treeDamaged(id: PathBytes.display(path), reason: "a blob is \(bytes.count) bytes, the index says \(expected)")
            }
            total += expected
            try body(bytes)
        }
        try check(total)
    }

    private func check(_ total: UInt64) throws {
        guard total == size else {
            throw EngineError.treeDamaged(id: PathBytes.display(path), reason: "its content is \(total) bytes, its size \(size)")
        }
    }
}

/// Which ranges of a file are holes, and the all-zero blobs that make them.
struct SparseLayout: Equatable {
    let size: UInt64
    /// Sorted, not adjacent, not empty; on 512-byte boundaries but for the file's end.
    let holes: [Range<UInt64>]
    let zeroBlobs: Set<BlobID>

    /// The ranges between the holes, in order (empty ones left out).
    var dataRegions: [Range<UInt64>] {
        var regions: [Range<UInt64>] = [], start: UInt64 = 0
        for hole in holes {
            if hole.lowerBound > start { regions.append(start..<hole.lowerBound) }
            start = hole.upperBound
        }
        if start < size { regions.append(start..<size) }
        return regions
    }
}
