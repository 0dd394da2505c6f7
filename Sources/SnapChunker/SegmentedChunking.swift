/// Chunking one stream in segments on several threads, with exactly the cut points of one
/// sequential pass.
///
/// ## Why the result is exact
/// Let `next(p)` be the end of the chunk that starts at offset `p`. It depends only on the
/// stream's bytes from `p` on (at most `maxSize` of them) and on whether the stream ends
/// among them: the chunker is a pure function of the bytes after a boundary. The
/// sequential chunking is therefore the chain `0, next(0), next(next(0)), …`, and a chain
/// started at any other offset follows the same function. Two chains that share one
/// offset share every offset after it. They need not ever meet (a run of bytes with no cut
/// point gives maximum-size chunks, so chains that start `k` bytes apart, `0 < k < maxSize`,
/// stay `k` apart through the run), but once they do, they are one chain.
///
/// ## The method
/// The stream is cut into segments at arbitrary offsets. Each segment is chunked on its own
/// (`chain`), starting at its first byte as if a boundary were there: a guess. Chunks that
/// start inside a segment belong to it, so its chain runs until the first offset at or past
/// the segment's end. Then, in stream order (`resynchronise`), the true chain enters each
/// segment at the offset where the previous segment's true chain left off, and follows
/// `next` from there until it reaches an offset of the segment's guessed chain; from that
/// offset on the guessed chain is the true one and is taken as it stands. If the chains
/// do not meet inside the segment, the true chain has been followed through all of it and
/// leaves at its own offset.
///
/// On random data the chains meet within a chunk or two after the seam, so almost all of
/// the chunking runs in parallel. Where they never meet (long runs without cut points, out
/// of step with the seam), resynchronising chunks the segment again, and the result is
/// still exact.
public enum SegmentedChunking {
    /// The chain of boundaries from `start`: `start`, `next(start)`, … up to and including
    /// the first offset at or past `end`; just `[start]` when `start >= end`.
    ///
    /// - Parameters:
    ///   - end: the end of the segment: chunks that start before it are its own.
    ///   - next: the end of the chunk that starts at an offset; always past that offset.
    public static func chain(from start: Int, end: Int, next: (Int) throws -> Int) rethrows -> [Int] {
        var boundaries = [start]
        var p = start
        while p < end {
            p = try next(p)
            boundaries.append(p)
        }
        return boundaries
    }

    /// A segment's true boundaries, from the true chain's entry into it and its guessed chain.
    ///
    /// - Parameters:
    ///   - entry: the first true boundary at or past the segment's start (the last offset of
    ///     the previous segment's result, or 0 for the first segment).
    ///   - guessed: `chain(from: segmentStart, end: end, next: next)`.
    ///   - end: the segment's end.
    ///   - next: as for `chain`.
    /// - Returns: `[entry, …, exit]`: the boundaries of the true chunks that start in the
    ///   segment, ending with the first true boundary at or past `end` (the next segment's
    ///   entry). Consecutive offsets are the chunks. Just `[entry]` when `entry >= end`.
    public static func resynchronise(entry: Int, guessed: [Int], end: Int, next: (Int) throws -> Int) rethrows -> [Int] {
        var boundaries = [entry]
        var p = entry
        var g = guessed.startIndex
        while p < end {
            // Both lists only grow: move along the guessed chain to the first offset not before p.
            while g < guessed.endIndex && guessed[g] < p { g += 1 }
            if g < guessed.endIndex && guessed[g] == p {
                boundaries += guessed[(g + 1)...]
                return boundaries
            }
            p = try next(p)
            boundaries.append(p)
        }
        return boundaries
    }
}

extension Chunker {
    /// `next` for a whole stream held in memory: the end of the chunk that starts at `start`.
    public func chunkEnd(in stream: UnsafeRawBufferPointer, from start: Int) -> Int {
        start + cut(UnsafeRawBufferPointer(rebasing: stream[start...]), isFinal: true)
    }

    /// Splits a whole in-memory buffer into chunk lengths the way several threads do, one
    /// segment each, then resynchronised at the seams (for tests and benchmarks): always
    /// equal to `chunkLengths(of:)`.
    ///
    /// - Parameter seams: the offsets where segments start after the first, ascending,
    ///   each inside the data.
    public func segmentedChunkLengths(of data: [UInt8], seams: [Int]) -> [Int] {
        data.withUnsafeBytes { stream in
            let starts = [0] + seams
            let ends = seams + [data.count]
            let next = { chunkEnd(in: stream, from: $0) }
            // Independent per segment: this is the part threads run side by side.
            let guessed = zip(starts, ends).map { SegmentedChunking.chain(from: $0, end: $1, next: next) }
            var boundaries = [0]
            for (chain, end) in zip(guessed, ends) {
                let own = SegmentedChunking.resynchronise(entry: boundaries.removeLast(), guessed: chain, end: end, next: next)
                boundaries += own
            }
            return zip(boundaries.dropFirst(), boundaries).map { $0 - $1 }
        }
    }
}
