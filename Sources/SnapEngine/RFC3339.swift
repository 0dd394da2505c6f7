import SnapCore
#if canImport(Glibc)
import Glibc
#endif

/// Formats and parses RFC 3339 times with nanoseconds and a UTC offset, as snapshots store them.
public enum RFC3339 {
    /// `YYYY-MM-DDTHH:MM:SS.nnnnnnnnn±HH:MM`, in the given offset from UTC (in seconds).
    public static func format(_ t: Timestamp, utcOffset: Int) -> String {
        let local = t.seconds + Int64(utcOffset)
        let days = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
        let secondOfDay = local - days * 86_400
        let (y, m, d) = CivilDate.date(days: days)
        // Built in bytes: `ls --json` formats two times an entry, a million entries a run.
        var out: [UInt8] = []
        out.reserveCapacity(36)
        put(y, width: 4, to: &out)
        out.append(UInt8(ascii: "-"))
        put(m, width: 2, to: &out)
        out.append(UInt8(ascii: "-"))
        put(d, width: 2, to: &out)
        out.append(UInt8(ascii: "T"))
        put(secondOfDay / 3600, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        put(secondOfDay / 60 % 60, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        put(secondOfDay % 60, width: 2, to: &out)
        if t.nanoseconds != 0 {
            out.append(UInt8(ascii: "."))
            put(Int64(t.nanoseconds), width: 9, to: &out)
        }
        if utcOffset == 0 {
            out.append(UInt8(ascii: "Z"))
        } else {
            let abs = Swift.abs(utcOffset)
            out.append(UInt8(ascii: utcOffset < 0 ? "-" : "+"))
            put(Int64(abs / 3600), width: 2, to: &out)
            out.append(UInt8(ascii: ":"))
            put(Int64(abs / 60 % 60), width: 2, to: &out)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `v` padded with zeros to `width` digits (a negative year keeps the form it always had:
    /// its sign after the zeros).
    private static func put(_ v: Int64, width: Int, to out: inout [UInt8]) {
        guard v >= 0 else {
            out.append(contentsOf: String(v).leftPadded(to: width).utf8)
            return
        }
        DecimalText.append(UInt64(v), width: width, to: &out)
    }

    /// Parses RFC 3339 (`T` or a space between date and time; `Z` or `±HH:MM`; optional
    /// fraction). Without a zone, or given only a date (midnight), the time is local.
    /// Years 0001…9999 only, and no leap second (`:60`): RFC 3339 allows both, but year 0
    /// is a typo's value and a time of second 60 cannot be told apart from the next minute.
    public static func parse(_ text: String) -> Timestamp? {
        let b = Array(text.utf8)
        func number(_ from: Int, _ count: Int) -> Int64? {
            guard from + count <= b.count else { return nil }
            var v: Int64 = 0
            for c in b[from..<from + count] {
                guard (48...57).contains(c) else { return nil }
                v = v * 10 + Int64(c - 48)
            }
            return v
        }
        guard let y = number(0, 4), y >= 1, b.count >= 10, b[4] == 45, let mo = number(5, 2), b[7] == 45, let d = number(8, 2),
              (1...12).contains(mo), d >= 1, d <= daysInMonth(y, mo) else { return nil }
        var hour: Int64 = 0, minute: Int64 = 0, second: Int64 = 0, nanos: Int64 = 0
        var i = 10
        if i < b.count {
            guard b[i] == 84 || b[i] == 116 || b[i] == 32, let h = number(i + 1, 2), b.count > i + 3, b[i + 3] == 58,
                  let mi = number(i + 4, 2) else { return nil }
            hour = h; minute = mi; i += 6
            if i < b.count && b[i] == 58 {
                guard let s = number(i + 1, 2) else { return nil }
                second = s; i += 3
            }
            if i < b.count && b[i] == 46 {
                i += 1
                var digits = 0
                while i < b.count, (48...57).contains(b[i]) {
                    if digits < 9 { nanos = nanos * 10 + Int64(b[i] - 48); digits += 1 }
                    i += 1
                }
                guard digits > 0 else { return nil }
                for _ in digits..<9 { nanos *= 10 }
            }
        }
        guard hour < 24, minute < 60, second < 60 else { return nil }
        let days = CivilDate.days(year: y, month: mo, day: d)
        let wallSeconds = days * 86_400 + hour * 3600 + minute * 60 + second
        if i == b.count {
            // No zone: local time.
            return Timestamp(seconds: wallSeconds - Int64(localOffset(forWallClock: wallSeconds)), nanoseconds: UInt32(nanos))
        }
        if (b[i] == 90 || b[i] == 122) && i + 1 == b.count {
            return Timestamp(seconds: wallSeconds, nanoseconds: UInt32(nanos))
        }
        guard b[i] == 43 || b[i] == 45, let oh = number(i + 1, 2), b.count == i + 6, b[i + 3] == 58, let om = number(i + 4, 2),
              oh < 24, om < 60 else { return nil }
        let offset = (oh * 3600 + om * 60) * (b[i] == 45 ? -1 : 1)
        return Timestamp(seconds: wallSeconds - offset, nanoseconds: UInt32(nanos))
    }

    /// The local time zone's offset from UTC at `seconds` (Unix time), in seconds.
    public static func localOffset(at seconds: Int64) -> Int {
        var t = time_t(seconds)
        var parts = tm()
        guard localtime_r(&t, &parts) != nil else { return 0 }
        return Int(parts.tm_gmtoff)
    }

    private static func localOffset(forWallClock wall: Int64) -> Int {
        // The offset at (wall - offset) is, outside a DST change, the offset at wall.
        let guess = localOffset(at: wall)
        return localOffset(at: wall - Int64(guess))
    }

    static func daysInMonth(_ year: Int64, _ month: Int64) -> Int64 {
        if month == 2 { return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28 }
        return [4, 6, 9, 11].contains(month) ? 30 : 31
    }
}
