import Dispatch
import SnapCore
import SnapRepository
import Synchronization

/// Decrypted data blobs for reads through a mount: a bounded cache, least recently used
/// dropped first, that loads each blob whole once however many readers want it, and loads
/// blobs ahead of a sequential reader on a few threads of its own.
///
/// Memory: the blobs held stay below `capacity` bytes of plaintext, plus the blobs being
/// loaded (at most `workers` ahead, and one per reading thread). Thread-safe.
final class BlobCache: Sendable {
    private struct Entry {
        var bytes: [UInt8]
        var stamp: UInt64
    }

    private struct State {
        var entries: [BlobID: Entry] = [:]
        /// Use order: an ID with the stamp its entry had then; stale pairs are skipped.
        var order: [(id: BlobID, stamp: UInt64)] = []
        var head = 0
        var clock: UInt64 = 0
        var bytes = 0
        var flights: [BlobID: Pending<[UInt8]>] = [:]
        var aheadInFlight = 0
        var loads = 0
    }

    private let capacity: Int
    private let workers: Int
    private let state = Mutex(State())
    private let load: @Sendable (BlobID) throws -> [UInt8]
    private let queue = DispatchQueue(label: "snap.mount.read-ahead", attributes: .concurrent)

    /// - Parameters:
    ///   - capacity: bytes of plaintext kept at most.
    ///   - workers: blobs loaded ahead at once.
    ///   - load: reads and decrypts one blob; its errors reach the reader that needs the blob.
    init(capacity: Int, workers: Int, load: @escaping @Sendable (BlobID) throws -> [UInt8]) {
        self.capacity = max(capacity, 1)
        self.workers = max(workers, 1)
        self.load = load
    }

    /// Blobs loaded from the repository so far (tests, statistics).
    var loads: Int { state.withLock { $0.loads } }

    /// Whether `id` is held now.
    func contains(_ id: BlobID) -> Bool { state.withLock { $0.entries[id] != nil } }

    /// The plaintext of `id`: held, being loaded (then waited for), or loaded now.
    func blob(_ id: BlobID) throws -> [UInt8] {
        enum Step { case held([UInt8]), wait(Pending<[UInt8]>), load(Pending<[UInt8]>) }
        let step: Step = state.withLock { s in
            if var entry = s.entries[id] {
                s.clock += 1
                entry.stamp = s.clock
                s.entries[id] = entry
                Self.touch(id, in: &s)
                return .held(entry.bytes)
            }
            if let flight = s.flights[id] { return .wait(flight) }
            let flight = Pending<[UInt8]>()
            s.flights[id] = flight
            return .load(flight)
        }
        switch step {
        case let .held(bytes): return bytes
        case let .wait(flight): return try flight.wait()
        case let .load(flight):
            fetch(id, flight, ahead: false)
            return try flight.wait()
        }
    }

    /// Starts loading those of `ids` that are neither held nor being loaded, while fewer
    /// than `workers` loads ahead are running; returns at once.
    func readAhead(_ ids: some Sequence<BlobID>) {
        var started: [(BlobID, Pending<[UInt8]>)] = []
        state.withLock { s in
            for id in ids {
                guard s.aheadInFlight < workers else { break }
                guard s.entries[id] == nil, s.flights[id] == nil else { continue }
                let flight = Pending<[UInt8]>()
                s.flights[id] = flight
                s.aheadInFlight += 1
                started.append((id, flight))
            }
        }
        for (id, flight) in started {
            queue.async { self.fetch(id, flight, ahead: true) }
        }
    }

    /// Loads `id`, caches it, and hands the result to whoever waits on `flight`.
    private func fetch(_ id: BlobID, _ flight: Pending<[UInt8]>, ahead: Bool) {
        let outcome = Result { try load(id) }
        state.withLock { s in
            s.flights[id] = nil
            s.loads += 1
            if ahead { s.aheadInFlight -= 1 }
            if case let .success(bytes) = outcome { insert(id, bytes, into: &s) }
        }
        flight.fulfil(outcome)
    }

    private func insert(_ id: BlobID, _ bytes: [UInt8], into s: inout State) {
        guard bytes.count <= capacity else { return }
        s.clock += 1
        s.entries[id] = Entry(bytes: bytes, stamp: s.clock)
        Self.touch(id, in: &s)
        s.bytes += bytes.count
        while s.bytes > capacity, s.head < s.order.count {
            let (oldest, stamp) = s.order[s.head]
            s.head += 1
            if let entry = s.entries[oldest], entry.stamp == stamp {
                s.entries[oldest] = nil
                s.bytes -= entry.bytes.count
            }
        }
    }

    /// Records a use of `id` at the current clock; keeps `order` within a few times the
    /// number of entries by dropping the pairs that later uses made stale.
    private static func touch(_ id: BlobID, in s: inout State) {
        s.order.append((id, s.clock))
        if s.order.count - s.head > 4 * s.entries.count + 1024 {
            let entries = s.entries
            s.order = s.order[s.head...].filter { entries[$0.id]?.stamp == $0.stamp }
            s.head = 0
        }
    }
}
