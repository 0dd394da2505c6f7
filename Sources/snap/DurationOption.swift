/// The durations of `--stuck-request-timeout` and `--retry-lock`: restic's (Go's) spelling
/// of hours, minutes and seconds (`90s`, `5m`, `1m30s`, `1.5h`), or a bare number of seconds
/// as snap's other timeouts take.
enum DurationOption {
    /// Whole seconds (a fraction rounds up), or `nil` for text that is not such a duration or
    /// lies outside 1 second to a week (libcurl measures stalls in seconds).
    static func seconds(_ text: String) -> Int? {
        guard !text.isEmpty else { return nil }
        if let plain = Double(text) { return whole(plain) }
        let units: [(suffix: String, seconds: Double)] = [("ms", 0.001), ("h", 3600), ("m", 60), ("s", 1)]
        var total = 0.0
        var rest = Substring(text)
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            guard let unit = units.first(where: { rest.hasPrefix($0.suffix) }) else { return nil }
            rest = rest.dropFirst(unit.suffix.count)
            total += value * unit.seconds
        }
        return whole(total)
    }

    private static func whole(_ seconds: Double) -> Int? {
        guard seconds >= 1, seconds <= 86_400 * 7 else { return nil }
        return Int(seconds.rounded(.up))
    }
}
