/// A span of calendar years, months and days plus hours, written like `2y5m7d3h`
/// (restic's `--keep-within` syntax).
///
/// It is not a fixed number of seconds: going back one month from 31 March lands on the
/// day the calendar gives (see `ZonedTimestamp.goingBack(by:)`).
public struct RetentionDuration: Sendable, Hashable, CustomStringConvertible {
    public var years: Int
    public var months: Int
    public var days: Int
    public var hours: Int

    /// The largest total accepted for any one unit, far beyond any retention period, so
    /// that calendar arithmetic cannot overflow.
    public static let unitLimit = 1_000_000

    public static let zero = RetentionDuration()

    public init(years: Int = 0, months: Int = 0, days: Int = 0, hours: Int = 0) {
        self.years = years; self.months = months; self.days = days; self.hours = hours
    }

    /// Parses `2y5m7d3h`: one or more parts, each ASCII digits followed by `y` (years),
    /// `m` (months), `d` (days) or `h` (hours). Parts may come in any order and may repeat;
    /// repeated units add up (`1d1d` is `2d`), as in restic.
    ///
    /// - Throws: `RetentionError.invalidDuration` for empty text, a number without a unit,
    ///   a unit without a number, any other character (signs, spaces, fractions, upper
    ///   case, `w`), or a unit whose total exceeds `unitLimit`.
    public init(parsing text: String) throws {
        func fail(_ reason: String) -> RetentionError { .invalidDuration(text, reason: reason) }
        guard !text.isEmpty else { throw fail("it is empty") }
        var result = RetentionDuration()
        var number: Int?
        for scalar in text.unicodeScalars {
            switch scalar {
            case "0"..."9":
                let value = (number ?? 0) * 10 + Int(scalar.value - 48)
                guard value <= Self.unitLimit else { throw fail("a number is larger than \(Self.unitLimit)") }
                number = value
            case "y", "m", "d", "h":
                guard let value = number else { throw fail("'\(scalar)' has no number before it") }
                switch scalar {
                case "y": result.years += value
                case "m": result.months += value
                case "d": result.days += value
                default: result.hours += value
                }
                guard max(result.years, result.months, result.days, result.hours) <= Self.unitLimit else {
                    throw fail("a unit adds up to more than \(Self.unitLimit)")
                }
                number = nil
            default:
                throw fail("'\(scalar)' is not a digit or one of the units y, m, d, h")
            }
        }
        guard number == nil else { throw fail("the last number has no unit") }
        self = result
    }

    /// Whether every part is zero; a zero duration means the rule is not used.
    public var isZero: Bool { years == 0 && months == 0 && days == 0 && hours == 0 }

    /// The non-zero parts in the order y, m, d, h (`2y5m7d3h`); `0h` when zero.
    public var description: String {
        let parts = [(years, "y"), (months, "m"), (days, "d"), (hours, "h")].filter { $0.0 != 0 }
        return parts.isEmpty ? "0h" : parts.map { "\($0.0)\($0.1)" }.joined()
    }
}
