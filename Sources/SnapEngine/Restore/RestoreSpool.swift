import SnapCore
import SnapStorage
import Synchronization

/// The rest of the packs a restore batch's last files use, kept for the next batches.
///
/// A restore goes in batches of entries in walk order (`Restorer`), and a backup fills its
/// open data packs in about that order, so the packs open at a batch's end hold files of
/// the next batch too. Read again there, each would cost one more request per boundary:
/// two per 16,384 entries from a backup on several cores (whose packs fill side by side),
/// and a pack of many small files spans many batches. A batch therefore reads those packs
/// (`Restorer.tailPacks`) on (`readOn`), in one request as before, only longer, and keeps
/// what it read in unnamed temporary files; later batches take their blobs of those packs
/// from there when they lie inside. A pack's bytes stay while each batch reads some of
/// them, and are dropped after the first batch that does not, or, to make room for another
/// pack within `limit`, when they are the least recently read. Blobs taken from here are
/// authenticated like any others (one that does not decode is read from the repository:
/// `BlobStretches.decodeEach`). A spool that cannot be written keeps nothing, and later
/// batches read from the repository.
final class RestoreSpool: Sendable {
    /// At most this many bytes are kept at once (four 16 MiB packs).
    static let limit = 64 << 20
    /// How far past the blobs it needs a batch reads a pack it keeps: a few batches' worth
    /// of a pack of small files, while a worker's read buffer grows by at most twice this.
    static let readOn = 8 << 20

    private struct Kept: Sendable {
        let file: StagedFile
        /// Where the bytes lie in the pack.
        let range: Range<Int>
        /// The last batch that kept or read it.
        var batch: Int
    }

    private struct State: Sendable {
        var batch = 0
        var kept: [PackID: Kept] = [:]
        var bytes = 0
        /// Set once a file could not be made or written: nothing more is kept.
        var failed = false
    }

    private let state = Mutex(State())

    /// Starts a batch: drops the packs the previous batch neither kept nor read. Called
    /// between batches, on the planning thread.
    func startBatch() {
        state.withLock { state in
            state.batch += 1
            for (pack, kept) in state.kept where kept.batch < state.batch - 1 {
                state.kept[pack] = nil
                state.bytes -= kept.range.count
            }
        }
    }

    /// Whether bytes of `pack` are kept.
    func keeps(_ pack: PackID) -> Bool {
        state.withLock { $0.kept[pack] != nil }
    }

    /// Makes room for `count` bytes of `pack`, in place of what is kept of it, dropping the
    /// packs least recently read where needed (never those this batch read); `false` when
    /// that would not make the room (`limit`) or a file failed. Each reservation is followed
    /// by `keep` or `cancel`.
    func reserve(_ pack: PackID, _ count: Int) -> Bool {
        state.withLock { state in
            guard !state.failed, count > 0 else { return false }
            // What is kept of `pack` does not hold what its reader needs: replaced in any case.
            if let old = state.kept.removeValue(forKey: pack) { state.bytes -= old.range.count }
            let droppable = state.kept.filter { $0.value.batch < state.batch }.sorted { $0.value.batch < $1.value.batch }
            guard state.bytes - droppable.reduce(0) { $0 + $1.value.range.count } + count <= Self.limit else { return false }
            for (key, kept) in droppable where state.bytes + count > Self.limit {
                state.kept[key] = nil
                state.bytes -= kept.range.count
            }
            state.bytes += count
            return true
        }
    }

    /// Gives back a reservation whose bytes could not be read.
    func cancel(_ count: Int) {
        state.withLock { $0.bytes -= count }
    }

    /// Keeps `bytes`, read from `pack` at `offset`, in the room reserved for them.
    func keep(_ pack: PackID, at offset: Int, _ bytes: [UInt8]) {
        // Written outside the lock: other workers go on reading what is kept.
        do {
            let file = try StagedFile.temporary()
            try file.append(bytes)
            state.withLock { state in
                let replaced = state.kept.updateValue(Kept(file: file, range: offset..<(offset + bytes.count), batch: state.batch),
                                                      forKey: pack)
                if let replaced { state.bytes -= replaced.range.count }
            }
        } catch {
            state.withLock { state in
                state.failed = true
                state.bytes -= bytes.count
            }
        }
    }

    /// The bytes of `pack` in `range`, if they are kept; else `nil`. What is kept of the
    /// pack then stays for the next batch.
    func read(_ pack: PackID, _ range: Range<Int>) -> [UInt8]? {
        let found = state.withLock { state -> (StagedFile, Range<Int>)? in
            guard var kept = state.kept[pack], kept.range.lowerBound <= range.lowerBound,
                  range.upperBound <= kept.range.upperBound else { return nil }
            kept.batch = state.batch
            state.kept[pack] = kept
            let start = range.lowerBound - kept.range.lowerBound
            return (kept.file, start..<(start + range.count))
        }
        guard let (file, bytes) = found else { return nil }
        return try? file.read(bytes)
    }
}
