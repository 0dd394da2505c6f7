import SnapCore
import SnapStorage
import Synchronization

/// The rest of the packs a restore batch's last files use, kept for the next batch.
///
/// A restore goes in batches of entries in walk order (`Restorer`), and a backup fills its
/// open data packs in about that order, so the packs open at a batch's end hold files of
/// the next batch too. Read again there, each would cost one more request per boundary:
/// two per 16,384 entries from a backup on several cores (whose packs fill side by side).
/// A batch therefore reads those packs (`tailPacks`) on to their end, one request as
/// before, only longer, and keeps what it read in an unnamed temporary file; the next batch
/// takes its stretches of those packs from there when they lie inside. Blobs taken from
/// here are authenticated like any others (one that does not decode is read from the
/// repository: `BlobStretches.decodeEach`). Only the last batch's bytes are kept, at most
/// `limit` of them; a spool that cannot be written keeps nothing, and the next batch reads
/// from the repository.
final class RestoreSpool: Sendable {
    /// At most this many bytes are kept per batch (four 16 MiB packs).
    static let limit = 64 << 20

    private struct Kept: Sendable {
        let range: Range<Int>
        let at: Int
    }

    private struct Generation: Sendable {
        var file: StagedFile?
        var kept: [PackID: Kept] = [:]
    }

    private struct State: Sendable {
        /// What this batch keeps.
        var writing = Generation()
        /// What the previous batch kept, read by this one.
        var reading = Generation()
        /// Set once a file could not be made or written: nothing more is kept.
        var failed = false
    }

    private let state = Mutex(State())

    /// Drops what the batch before the previous one kept; what the previous batch kept
    /// becomes readable. Called between batches, on the planning thread.
    func startBatch() {
        state.withLock { state in
            state.reading = state.writing
            state.writing = Generation()
        }
    }

    /// Keeps `bytes`, read from `pack` at `offset`, for the next batch; nothing once the
    /// batch has kept `limit` bytes or the file failed.
    func keep(_ pack: PackID, at offset: Int, _ bytes: [UInt8]) {
        state.withLock { state in
            guard !state.failed, !bytes.isEmpty else { return }
            do {
                if state.writing.file == nil { state.writing.file = try StagedFile.temporary() }
                guard let file = state.writing.file, file.size + bytes.count <= Self.limit else { return }
                let at = file.size
                try file.append(bytes)
                state.writing.kept[pack] = Kept(range: offset..<(offset + bytes.count), at: at)
            } catch {
                state.failed = true
                state.writing = Generation()
            }
        }
    }

    /// Where what the previous batch kept of `pack` starts, if it kept any.
    func keptStart(_ pack: PackID) -> Int? {
        state.withLock { $0.reading.kept[pack]?.range.lowerBound }
    }

    /// The bytes of `pack` in `range`, if the previous batch kept all of them; else `nil`.
    func read(_ pack: PackID, _ range: Range<Int>) -> [UInt8]? {
        let found = state.withLock { state -> (StagedFile, Range<Int>)? in
            guard let kept = state.reading.kept[pack], let file = state.reading.file,
                  kept.range.lowerBound <= range.lowerBound, range.upperBound <= kept.range.upperBound else { return nil }
            let start = kept.at + range.lowerBound - kept.range.lowerBound
            return (file, start..<(start + range.count))
        }
        guard let (file, bytes) = found else { return nil }
        return try? file.read(bytes)
    }
}
