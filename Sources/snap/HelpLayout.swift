/// Puts a command's own options before the global ones in its help text.
///
/// ArgumentParser prints titled option groups before the untitled OPTIONS section, so the
/// sixteen global options (one titled group shared by every command) would push a command's
/// own options off the first screen. The help text is regrouped instead of moving every
/// command's options into titled groups of their own: sections start at an unindented line
/// ending in `:`, and the GLOBAL OPTIONS section moves to just after OPTIONS.
enum HelpLayout {
    static let globalHeading = "GLOBAL OPTIONS:"

    static func ownOptionsFirst(_ help: String) -> String {
        var sections: [[Substring]] = [[]]
        for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
            if isHeading(line) { sections.append([]) }
            sections[sections.count - 1].append(line)
        }
        guard let global = sections.firstIndex(where: { $0.first == Substring(globalHeading) }),
              let own = sections.firstIndex(where: { $0.first == "OPTIONS:" }), own > global else { return help }
        let moved = sections.remove(at: global)
        sections.insert(moved, at: own)  // `own` moved one up by the removal: this is just after it
        return sections.flatMap { $0 }.joined(separator: "\n")
    }

    private static func isHeading(_ line: Substring) -> Bool {
        guard let first = line.first, first != " ", line.hasSuffix(":") else { return false }
        return line.allSatisfy { $0.isUppercase || $0 == " " || $0 == ":" }
    }
}
