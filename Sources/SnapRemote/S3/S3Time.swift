import Glibc
import SnapCore

/// UTC timestamps in the two forms S3 wants, from seconds since 1970 (no Foundation
/// formatters, which are neither cheap nor simple to share between threads).
enum S3Time {
    /// Seconds since 1970-01-01T00:00:00Z, now.
    static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec)
    }

    /// `yyyyMMdd'T'HHmmss'Z'`, the form of `x-amz-date`.
    static func amzDate(_ seconds: Int64) -> String {
        let t = fields(seconds)
        return pad(t.year, 4) + pad(t.month, 2) + pad(t.day, 2) + "T" + pad(t.hour, 2) + pad(t.minute, 2) + pad(t.second, 2) + "Z"
    }

    /// `yyyy-MM-dd'T'HH:mm:ss'Z'` (ISO 8601), the form of `x-amz-object-lock-retain-until-date`.
    static func iso8601(_ seconds: Int64) -> String {
        let t = fields(seconds)
        return "\(pad(t.year, 4))-\(pad(t.month, 2))-\(pad(t.day, 2))T\(pad(t.hour, 2)):\(pad(t.minute, 2)):\(pad(t.second, 2))Z"
    }

    /// The civil date and time of `seconds` (UTC).
    static func fields(_ seconds: Int64) -> (year: Int64, month: Int64, day: Int64, hour: Int64, minute: Int64, second: Int64) {
        CivilDate.fields(seconds: seconds)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
