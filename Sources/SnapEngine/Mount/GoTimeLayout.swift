/// restic's `--time-template` is a Go time layout (`2006-01-02T15:04:05Z07:00`: the reference
/// time written as wanted); snap formats with strftime. A template without `%` is taken as a
/// Go layout and translated, so restic users' templates mean the same thing; one with `%`
/// is strftime already. Times are formatted in UTC, so zone fields become UTC's.
enum GoTimeLayout {
    /// Go's layout elements, longest first where one begins another.
    private static let elements: [(go: String, strftime: String)] = [
        ("January", "%B"), ("Jan", "%b"), ("Monday", "%A"), ("Mon", "%a"), ("MST", "UTC"),
        ("2006", "%Y"), ("Z07:00", "Z"), ("-07:00", "+00:00"), ("-0700", "+0000"), ("Z0700", "Z"), ("-07", "+00"),
        ("01", "%m"), ("02", "%d"), ("_2", "%e"), ("15", "%H"), ("03", "%I"), ("04", "%M"), ("05", "%S"),
        ("06", "%y"), ("PM", "%p"), ("pm", "%P"),
        ("1", "%-m"), ("2", "%-d"), ("3", "%-I"), ("4", "%-M"), ("5", "%-S"),
    ]

    /// `template` as a strftime format: unchanged when it holds `%`, else translated.
    static func strftimeFormat(_ template: String) -> String {
        guard !template.contains("%") else { return template }
        var rest = Substring(template)
        var out = ""
        while !rest.isEmpty {
            if let element = elements.first(where: { rest.hasPrefix($0.go) }) {
                out += element.strftime
                rest = rest.dropFirst(element.go.count)
            } else {
                out.append(rest.removeFirst())
            }
        }
        return out
    }
}
