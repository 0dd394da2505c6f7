import SnapCore
import SnapCrypto
import SnapStorage
import Synchronization

/// Whole tree packs kept in memory, so that walking a snapshot costs one download per tree
/// pack instead of one request per directory (a remote round trip each).
///
/// Packs enter whole and verified against their names; the oldest leave first once the
/// cache holds more than `capacity` bytes. Thread-safe.
final class TreePackCache: Sendable {
    private struct State {
        var packs: [PackID: [UInt8]] = [:]
        var order: [PackID] = []
        var bytes = 0
    }

    private let state = Mutex(State())
    private let capacity: Int
    /// Packs larger than this are never cached (they are read by range as usual).
    let largestPack: Int

    init(capacity: Int = 128 << 20, largestPack: Int = 64 << 20) {
        self.capacity = capacity
        self.largestPack = largestPack
    }

    /// The bytes of `pack`, from the cache or downloaded whole and checked against the pack's
    /// name (a mirror tries another replica when the check fails); `nil` when no copy is valid.
    func bytes(of pack: PackID, backend: Backend) throws -> [UInt8]? {
        if let hit = state.withLock({ $0.packs[pack] }) { return hit }
        let expected = pack.raw.bytes
        let data = try backend.readMetadata(FileName(.data, pack.hex)) { SHA256.hash($0) == expected }
        guard SHA256.hash(data) == expected else { return nil }
        state.withLock { s in
            guard s.packs[pack] == nil else { return }
            s.packs[pack] = data
            s.order.append(pack)
            s.bytes += data.count
            while s.bytes > capacity, s.order.count > 1 {
                let oldest = s.order.removeFirst()
                s.bytes -= s.packs.removeValue(forKey: oldest)?.count ?? 0
            }
        }
        return data
    }
}
