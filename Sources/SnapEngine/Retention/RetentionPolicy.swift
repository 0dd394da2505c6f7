/// Which snapshots of a group to keep; every snapshot no rule keeps is removed.
///
/// Counts: 0 means the rule is not used, a negative count means unlimited (restic's `-1`,
/// `unlimited` on the command line). Durations: `.zero` means the rule is not used. The
/// rules are explained, with examples, in docs/retention.md.
public struct RetentionPolicy: Sendable, Equatable, CustomStringConvertible {
    /// Keep the newest N snapshots.
    public var keepLast = 0
    /// Keep the newest snapshot of each of the newest N hours that have snapshots; the
    /// daily … yearly counts likewise for their periods (`RetentionPeriod`).
    public var keepHourly = 0
    public var keepDaily = 0
    public var keepWeekly = 0
    public var keepMonthly = 0
    public var keepYearly = 0
    /// Keep every snapshot taken after (newest snapshot − duration).
    public var keepWithin = RetentionDuration.zero
    /// Among snapshots taken after (newest snapshot − duration), keep the newest of every
    /// hour; the daily … yearly durations likewise for their periods.
    public var keepWithinHourly = RetentionDuration.zero
    public var keepWithinDaily = RetentionDuration.zero
    public var keepWithinWeekly = RetentionDuration.zero
    public var keepWithinMonthly = RetentionDuration.zero
    public var keepWithinYearly = RetentionDuration.zero
    /// Keep every snapshot that has all tags of any one element; an element is a
    /// comma-separated set (`a,b` means both a and b). An empty element matches snapshots
    /// without tags.
    public var keepTags: [String] = []

    public init() {}

    /// Whether no rule is set. An empty policy keeps everything; `forget` refuses it.
    public var isEmpty: Bool {
        countRules.allSatisfy { $0.count == 0 } && keepWithin.isZero && withinRules.allSatisfy { $0.duration.isZero }
            && keepTags.isEmpty
    }

    /// The `--keep-last` and calendar count rules, in the order reasons are listed.
    var countRules: [(period: RetentionPeriod?, count: Int)] {
        [(nil, keepLast), (.hour, keepHourly), (.day, keepDaily), (.week, keepWeekly), (.month, keepMonthly), (.year, keepYearly)]
    }

    /// The `--keep-within-*` rules, in the order reasons are listed.
    var withinRules: [(period: RetentionPeriod, duration: RetentionDuration)] {
        [(.hour, keepWithinHourly), (.day, keepWithinDaily), (.week, keepWithinWeekly), (.month, keepWithinMonthly),
         (.year, keepWithinYearly)]
    }

    /// The policy in words, e.g. `keep the last 2 snapshots, 7 daily, 4 weekly, all monthly`.
    public var description: String {
        var parts: [String] = []
        func amount(_ count: Int) -> String { count < 0 ? "all" : String(count) }
        if keepLast < 0 { parts.append("all snapshots") } else if keepLast > 0 { parts.append("the last \(keepLast) snapshots") }
        for (period, count) in countRules.dropFirst() where count != 0 {
            parts.append("\(amount(count)) \(period?.adjective ?? "")")
        }
        for (period, duration) in withinRules where !duration.isZero {
            parts.append("\(period.adjective) snapshots within \(duration)")
        }
        if !keepWithin.isZero { parts.append("all snapshots within \(keepWithin) of the newest") }
        for tags in keepTags { parts.append(tags.isEmpty ? "all untagged snapshots" : "all snapshots tagged \(tags)") }
        return parts.isEmpty ? "keep everything (no policy)" : "keep " + parts.joined(separator: ", ")
    }
}
