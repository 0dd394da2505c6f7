import SnapCore
import SnapEngine
import XCTest

/// Snapshots made from literal times, with helpers that report a policy's decision as the
/// literal time strings, so tests compare against hand-written tables.
struct RetentionFixture {
    private(set) var snapshots: [RetentionSnapshot] = []
    private var texts: [SnapshotID: String] = [:]

    /// Far after every fixture time, so nothing is in the future unless a test says so.
    static let defaultNow = "2030-01-01T00:00:00Z"

    init() {}

    init(_ times: [String]) {
        for time in times { add(time) }
    }

    /// Adds a snapshot; its ID grows with the order of adding.
    @discardableResult
    mutating func add(_ time: String, host: String = "alpha", paths: [String] = ["/data"], tags: [String] = []) -> SnapshotID {
        let id = retentionTestID(snapshots.count + 1)
        guard let zoned = ZonedTimestamp(rfc3339: time) else {
            XCTFail("fixture time \(time) does not parse")
            return id
        }
        snapshots.append(RetentionSnapshot(id: id, time: zoned, hostname: host, paths: paths, tags: tags))
        texts[id] = time
        return id
    }

    func text(_ snapshot: RetentionSnapshot) -> String { texts[snapshot.id] ?? "?" }

    func outcome(_ policy: RetentionPolicy, now: String = defaultNow) -> RetentionOutcome {
        Retention.apply(policy, to: snapshots, now: instant(now))
    }

    /// Kept snapshots' times, newest first.
    func kept(_ policy: RetentionPolicy, now: String = defaultNow) -> [String] {
        outcome(policy, now: now).keep.map { text($0.snapshot) }
    }

    /// Kept snapshots' times with their reasons, newest first.
    func reasons(_ policy: RetentionPolicy, now: String = defaultNow) -> [(String, [String])] {
        outcome(policy, now: now).keep.map { (text($0.snapshot), $0.reasons) }
    }

    /// Removed snapshots' times, newest first.
    func removed(_ policy: RetentionPolicy, now: String = defaultNow) -> [String] {
        outcome(policy, now: now).remove.map(text)
    }
}

/// A snapshot ID whose first eight bytes are `n`, so IDs sort like `n`.
func retentionTestID(_ n: Int) -> SnapshotID {
    var bytes = [UInt8](repeating: 0, count: 32)
    for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: UInt64(n) >> (56 - 8 * UInt64(i))) }
    bytes[31] = 0x5A
    guard let id = SnapshotID(bytes: bytes) else { preconditionFailure("32 bytes always make an ID") }
    return id
}

func instant(_ text: String) -> Timestamp {
    guard let t = ZonedTimestamp(rfc3339: text) else {
        XCTFail("time \(text) does not parse")
        return Timestamp(seconds: 0, nanoseconds: 0)
    }
    return t.instant
}

/// A policy built by setting fields: `policy { $0.keepDaily = 7 }`.
func policy(_ configure: (inout RetentionPolicy) -> Void) -> RetentionPolicy {
    var p = RetentionPolicy()
    configure(&p)
    return p
}

/// Every date from `first` through `last` as `YYYY-MM-DD`: the test's own calendar,
/// independent of the engine's date arithmetic.
func calendarDates(from first: (Int, Int, Int), through last: (Int, Int, Int)) -> [String] {
    func length(_ year: Int, _ month: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
    func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
    var (y, m, d) = first
    var dates: [String] = []
    while (y, m, d) <= last {
        dates.append("\(y)-\(two(m))-\(two(d))")
        d += 1
        if d > length(y, m) { d = 1; m += 1 }
        if m > 12 { m = 1; y += 1 }
    }
    return dates
}
