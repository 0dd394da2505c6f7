import SnapCore
#if canImport(Glibc)
import Glibc
#endif

/// The snapshots a mount shows at one moment, with the names of its made-up folders:
/// `snapshots/` by time, `ids/` by short ID, `hosts/`, `tags/`, and the groups of `at/`.
struct SnapshotListing: Sendable {
    /// Oldest first, filtered.
    let records: [SnapshotRecord]
    /// Each record's folder name under `snapshots/`: its time through the template, with
    /// `-1`, `-2`… added when two snapshots format alike (restic's rule).
    let names: [String]
    let byName: [String: Int]
    let byShortID: [String: Int]
    /// Record numbers per host name and per tag, oldest first.
    let hosts: [String: [Int]]
    let tags: [String: [Int]]
    /// Each record's group (host and set of paths) and that group's folder name under `at/TIME/`.
    private let groupOf: [Int]
    let groupNames: [String]
    /// The newest snapshot's time (without snapshots, when the listing was made): the
    /// made-up folders' modification time.
    let newest: Timestamp

    static let empty = SnapshotListing(records: [], template: SnapshotListing.defaultTemplate)

    /// `2024-05-01T12:00:00Z`: strftime fields, in UTC.
    static let defaultTemplate = "%Y-%m-%dT%H:%M:%SZ"

    init(records: [SnapshotRecord], template: String) {
        self.records = records
        var names: [String] = [], byName: [String: Int] = [:], byShortID: [String: Int] = [:]
        var hosts: [String: [Int]] = [:], tags: [String: [Int]] = [:]
        for (i, record) in records.enumerated() {
            let base = Self.format(record.snapshot.timestamp, template: template)
            var name = base, n = 0
            while byName[name] != nil || name == "latest" { n += 1; name = "\(base)-\(n)" }
            names.append(name)
            byName[name] = i
            if byShortID[record.id.short] == nil { byShortID[record.id.short] = i }
            if Self.usable(record.snapshot.hostname) { hosts[record.snapshot.hostname, default: []].append(i) }
            for tag in Set(record.snapshot.tags) where Self.usable(tag) { tags[tag, default: []].append(i) }
        }
        // Groups as forget's default (host and set of paths); a host with one group names
        // its folder by the host alone, otherwise HOST~1, HOST~2… in order of their paths.
        // Hosts that cannot be folder names share `unknown-host`, numbered the same way,
        // and a name another group already has (a host called `a~1`) gets the next free `~N`.
        var keys: [SnapshotGroupKey] = [], keyNumber: [SnapshotGroupKey: Int] = [:], groupOf: [Int] = []
        for record in records {
            let key = SnapshotGroupKey(hostname: record.snapshot.hostname, paths: Array(Set(record.snapshot.paths)).sorted())
            if keyNumber[key] == nil { keyNumber[key] = keys.count; keys.append(key) }
            groupOf.append(keyNumber[key] ?? 0)
        }
        var groupNames = [String](repeating: "", count: keys.count)
        let byShownHost = Dictionary(grouping: keys.indices) { number in
            let host = keys[number].hostname ?? ""
            return Self.usable(host) ? host : "unknown-host"
        }
        var taken = Set<String>()
        for (shown, numbers) in byShownHost.sorted(by: { $0.key < $1.key }) {
            let ordered = numbers.sorted { keys[$0] < keys[$1] }
            for (ordinal, number) in ordered.enumerated() {
                var name = ordered.count == 1 ? shown : "\(shown)~\(ordinal + 1)", n = ordered.count
                while taken.contains(name) { n += 1; name = "\(shown)~\(n)" }
                taken.insert(name)
                groupNames[number] = name
            }
        }
        self.names = names; self.byName = byName; self.byShortID = byShortID
        self.hosts = hosts; self.tags = tags; self.groupOf = groupOf; self.groupNames = groupNames
        // Without snapshots, the time of the listing: a mount of a new repository shows no 1970.
        newest = records.map(\.snapshot.timestamp).max() ?? WallClock.now
    }

    /// For each group, its name and the newest of its snapshots taken at or before `time`
    /// (`restore --at`'s rule, per host and set of paths), in name order.
    func pointInTime(_ time: Timestamp) -> [(name: String, record: Int)] {
        var chosen: [Int: Int] = [:]
        for (i, record) in records.enumerated() where record.snapshot.timestamp <= time {
            chosen[groupOf[i]] = i  // records are oldest first: the last one wins
        }
        return chosen.map { (groupNames[$0.key], $0.value) }.sorted { $0.name < $1.name }
    }

    /// A host name or tag that can be a folder name.
    private static func usable(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.contains("\0")
    }

    /// `time` through `template` (strftime's fields, or a Go layout as restic takes:
    /// `GoTimeLayout`), in UTC; `/` in the result becomes `-`.
    static func format(_ time: Timestamp, template: String) -> String {
        let template = GoTimeLayout.strftimeFormat(template)
        var t = time_t(time.seconds)
        var parts = tm()
        guard gmtime_r(&t, &parts) != nil else { return String(time.seconds) }
        var buffer = [CChar](repeating: 0, count: 256)
        let count = strftime(&buffer, buffer.count, template, &parts)
        guard count > 0 else { return String(time.seconds) }
        let text = String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return String(text.map { $0 == "/" ? "-" : $0 })
    }
}
