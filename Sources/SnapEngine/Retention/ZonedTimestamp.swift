import SnapCore
/// A moment together with the UTC offset it was recorded in.
///
/// Retention puts a snapshot into an hour, day, week, month and year by the wall clock of
/// the offset stored in its `time` string — restic does the same, because Go keeps the
/// offset it parsed — never by the time zone of the machine that runs `forget`.
public struct ZonedTimestamp: Sendable, Hashable {
    public var instant: Timestamp
    /// Seconds east of UTC.
    public var utcOffset: Int

    public init(instant: Timestamp, utcOffset: Int) {
        self.instant = instant; self.utcOffset = utcOffset
    }

    /// Parses an RFC 3339 time as snapshots store it, keeping its offset. A time without a
    /// zone (snap never writes one) is read in the local zone, as `RFC3339.parse` reads it.
    public init?(rfc3339 text: String) {
        guard let instant = RFC3339.parse(text) else { return nil }
        self.instant = instant
        utcOffset = Self.explicitOffset(of: text) ?? RFC3339.localOffset(at: instant.seconds)
    }

    /// The `Z` or `±HH:MM` at the end of a date and time that `RFC3339.parse` accepted, in
    /// seconds; `nil` when the text has no zone.
    static func explicitOffset(of text: String) -> Int? {
        let b = Array(text.utf8)
        guard b.count > 10, let last = b.last else { return nil }  // a bare date has no zone
        if last == UInt8(ascii: "Z") || last == UInt8(ascii: "z") { return 0 }
        let sign = b[b.count - 6]
        guard b.count >= 16, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-"), b[b.count - 3] == UInt8(ascii: ":") else {
            return nil
        }
        let digits = [b[b.count - 5], b[b.count - 4], b[b.count - 2], b[b.count - 1]].map { Int($0) - 48 }
        guard digits.allSatisfy({ (0...9).contains($0) }) else { return nil }
        let seconds = (digits[0] * 10 + digits[1]) * 3600 + (digits[2] * 10 + digits[3]) * 60
        return sign == UInt8(ascii: "-") ? -seconds : seconds
    }

    /// Seconds since 1970-01-01T00:00 on this offset's wall clock.
    var wallSeconds: Int64 { instant.seconds + Int64(utcOffset) }

    /// Days since 1970-01-01 on this offset's wall clock.
    var wallDay: Int64 { floorDivide(wallSeconds, 86_400) }

    /// The wall-clock date: year, month (1–12), day (1–31).
    var wallDate: (year: Int64, month: Int64, day: Int64) {
        let (y, m, d) = CivilDate.date(days: wallDay)
        return (y, m, d)
    }

    /// The moment `duration` before this one, computed as Go's
    /// `t.AddDate(-years, -months, -days).Add(-hours * time.Hour)`, which restic uses:
    /// years and months are taken off the wall-clock date in this offset, an impossible day
    /// rolls over into the next month (31 March minus one month is "31 February", that is
    /// 3 March, or 2 March in a leap year), days are then counted back on the calendar with
    /// the time of day unchanged, and finally the hours are taken off as elapsed time.
    ///
    /// When this offset is the local zone's at this moment, the wall-clock result is read
    /// in the local zone, as Go reads it (its parser puts such a time in the local zone, and
    /// `AddDate` then follows its daylight-saving rules): one month before 1 December 12:00
    /// in New York is 1 November 12:00 EDT, an hour earlier than 12:00 at December's offset,
    /// so a snapshot at 12:30 that November day is within, as with restic.
    public func goingBack(by duration: RetentionDuration) -> Timestamp {
        let day = wallDay
        let secondOfDay = wallSeconds - day * 86_400
        let (year, month, dayOfMonth) = wallDate
        let monthIndex = month - 1 - Int64(duration.months)
        let targetYear = year - Int64(duration.years) + floorDivide(monthIndex, 12)
        let targetMonth = monthIndex - floorDivide(monthIndex, 12) * 12 + 1
        let targetDay = CivilDate.days(year: targetYear, month: targetMonth, day: 1) + dayOfMonth - 1 - Int64(duration.days)
        let wall = targetDay * 86_400 + secondOfDay
        var offset = Int64(utcOffset)
        if utcOffset == RFC3339.localOffset(at: instant.seconds) {
            offset = Int64(RFC3339.localOffset(at: wall - offset))
        }
        return Timestamp(seconds: wall - offset - Int64(duration.hours) * 3600, nanoseconds: instant.nanoseconds)
    }
}

/// Division rounding toward negative infinity, so times before 1970 fall into the right day.
func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}
