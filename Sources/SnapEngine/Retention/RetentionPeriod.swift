/// A calendar period that a bucket rule (`--keep-hourly` … `--keep-yearly` and their
/// `--keep-within-*` forms) counts, on the snapshot's own wall clock.
public enum RetentionPeriod: Sendable, CaseIterable {
    /// HH:00:00 to HH:59:59.
    case hour
    /// 00:00:00 to 23:59:59.
    case day
    /// Monday 00:00 to Sunday 23:59:59: an ISO 8601 week, as Go's `ISOWeek` (used by
    /// restic) numbers them. A week that spans New Year is one week.
    case week
    /// The calendar month.
    case month
    /// The calendar year (not the ISO week-numbering year).
    case year

    /// `hourly`, `daily`, …, as the rules and reasons name it.
    public var adjective: String {
        switch self {
        case .hour: return "hourly"
        case .day: return "daily"
        case .week: return "weekly"
        case .month: return "monthly"
        case .year: return "yearly"
        }
    }

    /// A number that identifies the period containing `time` on its own wall clock: equal
    /// for two times exactly when they fall in the same period.
    public func bucket(of time: ZonedTimestamp) -> Int64 {
        switch self {
        case .hour:
            return floorDivide(time.wallSeconds, 3600)
        case .day:
            return time.wallDay
        case .week:
            // 1970-01-01 was a Thursday, three days after a Monday. A week is named by the
            // day number of its Monday; ISO (year, week) pairs and Mondays correspond one to one.
            let day = time.wallDay
            return day - (day + 3 - floorDivide(day + 3, 7) * 7)
        case .month:
            let date = time.wallDate
            return date.year * 12 + date.month - 1
        case .year:
            return time.wallDate.year
        }
    }
}
