import Dispatch
import SnapCore
import SnapRepository
import Synchronization

/// Decrypted data blobs for reads through a mount: a bounded cache, least recently used
/// dropped first, that loads each blob whole once however many readers want it (with the
/// blobs after it in its pack, `PackStretches`), and loads blobs ahead of a sequential
/// reader on a few threads of its own.
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
    private let plan: @Sendable (BlobID) -> [BlobID]
    private let load: @Sendable ([BlobID]) -> [BlobID: Result<[UInt8], any Error>]
    private let queue = DispatchQueue(label: "snap.mount.read-ahead", attributes: .concurrent)

    /// Given to the waiters of a blob that a stretch was to bring and did not: they load it themselves.
    private struct NotBrought: Error {}

    /// - Parameters:
    ///   - capacity: bytes of plaintext kept at most.
    ///   - workers: loads ahead at once.
    ///   - plan: the blobs to load together with one (it first): a stretch of its pack.
    ///   - load: reads the blobs of a plan; must give the first one's result (its errors reach
    ///     the readers that need it), and may leave the others out.
    init(capacity: Int, workers: Int, plan: @escaping @Sendable (BlobID) -> [BlobID],
         load: @escaping @Sendable ([BlobID]) -> [BlobID: Result<[UInt8], any Error>]) {
        self.capacity = max(capacity, 1)
        self.workers = max(workers, 1)
        self.plan = plan
        self.load = load
    }

    /// Loads from the repository so far, each one request (tests, statistics).
    var loads: Int { state.withLock { $0.loads } }

    /// Whether `id` is held now.
    func contains(_ id: BlobID) -> Bool { state.withLock { $0.entries[id] != nil } }

    /// The plaintext of `id`: held, being loaded (then waited for), or loaded now with the
    /// blobs that follow it in its pack.
    func blob(_ id: BlobID) throws -> [UInt8] {
        while true {
            if let bytes = held(id) { return bytes }
            if let flight = state.withLock({ $0.flights[id] }) {
                do { return try flight.wait() } catch is NotBrought { continue }
            }
            let planned = plan(id)
            guard let flights = register(planned, requiring: id) else { continue }  // someone else started it
            fetch(flights, ahead: false)
            guard let own = flights.first(where: { $0.0 == id })?.1 else { continue }
            do { return try own.wait() } catch is NotBrought { continue }
        }
    }

    /// Starts loading those of `ids` that are neither held nor being loaded (each with its
    /// stretch), while fewer than `workers` loads ahead are running; returns at once.
    func readAhead(_ ids: some Sequence<BlobID>) {
        for id in ids {
            let (busy, present) = state.withLock { ($0.aheadInFlight >= workers, $0.entries[id] != nil || $0.flights[id] != nil) }
            if busy { return }
            if present { continue }
            guard let flights = register(plan(id), requiring: id, ahead: true) else { continue }
            queue.async { self.fetch(flights, ahead: true) }
        }
    }

    private func held(_ id: BlobID) -> [UInt8]? {
        state.withLock { s in
            guard var entry = s.entries[id] else { return nil }
            s.clock += 1
            entry.stamp = s.clock
            s.entries[id] = entry
            Self.touch(id, in: &s)
            return entry.bytes
        }
    }

    /// Registers flights for the blobs of `planned` that are neither held nor in flight;
    /// `nil` when `required` itself is already there or on its way.
    private func register(_ planned: [BlobID], requiring required: BlobID, ahead: Bool = false) -> [(BlobID, Pending<[UInt8]>)]? {
        state.withLock { s in
            guard s.entries[required] == nil, s.flights[required] == nil else { return nil }
            if ahead { s.aheadInFlight += 1 }
            var flights: [(BlobID, Pending<[UInt8]>)] = []
            for id in [required] + planned.filter({ $0 != required }) where s.entries[id] == nil && s.flights[id] == nil {
                let flight = Pending<[UInt8]>()
                s.flights[id] = flight
                flights.append((id, flight))
            }
            return flights
        }
    }

    /// Loads the blobs of `flights` (the first is the one asked for), caches them, and hands
    /// each result to whoever waits.
    private func fetch(_ flights: [(BlobID, Pending<[UInt8]>)], ahead: Bool) {
        let results = load(flights.map(\.0))
        state.withLock { s in
            s.loads += 1
            if ahead { s.aheadInFlight -= 1 }
            for (id, _) in flights {
                s.flights[id] = nil
                if case let .success(bytes)? = results[id] { insert(id, bytes, into: &s) }
            }
        }
        for (id, flight) in flights { flight.fulfil(results[id] ?? .failure(NotBrought())) }
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
