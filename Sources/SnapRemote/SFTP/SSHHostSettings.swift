/// What OpenSSH's client configuration (`~/.ssh/config`) says about one host, for the
/// settings an SFTP location needs: so that `sftp:nas:/backup` reaches the same server,
/// port, user and key as `ssh nas` does, as it does in restic (which runs `ssh`).
///
/// Read as `ssh_config(5)` reads it, for the keywords below only: `Host` blocks whose
/// patterns (`*`, `?`, `!` negation, several per line) match the name given; for each
/// keyword the first value found wins (`IdentityFile` collects every one); `Match` blocks
/// and `Include` are not followed (their settings are not applied). snap links libssh2
/// through libcurl, which reads no configuration file, and no library on this system parses
/// one, hence this reader. (`RepositoryLocation` applies it.)
public struct SSHHostSettings: Equatable, Sendable {
    public var hostName: String?
    public var user: String?
    public var port: Int?
    /// `IdentityFile` values in order, `~` and `%d`/`%h`/`%u`/`%r`/`%%` expanded.
    public var identityFiles: [String] = []
    /// The first file of `UserKnownHostsFile`, expanded as `identityFiles`.
    public var knownHostsFile: String?

    public init() {}

    /// The settings for `host` in configuration `text`.
    ///
    /// - Parameters:
    ///   - home: the home folder, for `~` and `%d`.
    ///   - localUser: the local user's name, for `%u`.
    public init(for host: String, in text: String, home: String, localUser: String) {
        var applies = true  // settings before the first Host line apply to every host
        var rawIdentityFiles: [String] = []
        var rawKnownHosts: String?
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            guard let (keyword, values) = Self.parse(line) else { continue }
            switch keyword {
            case "host": applies = Self.matches(host, patterns: values)
            case "match": applies = false
            default:
                guard applies, let value = values.first else { continue }
                switch keyword {
                case "hostname": if hostName == nil { hostName = value.replacingPercent(host: host) }
                case "user": if user == nil { user = value }
                case "port": if port == nil, let number = Int(value), (1...65535).contains(number) { port = number }
                case "identityfile": rawIdentityFiles.append(value)
                case "userknownhostsfile": if rawKnownHosts == nil { rawKnownHosts = value }
                default: break
                }
            }
        }
        let remoteUser = user ?? localUser
        func expand(_ path: String) -> String {
            let tilde = path == "~" ? home : path.hasPrefix("~/") ? home + path.dropFirst() : path
            return tilde.replacingPercent(host: hostName ?? host, home: home, localUser: localUser, remoteUser: remoteUser)
        }
        identityFiles = rawIdentityFiles.map(expand)
        knownHostsFile = rawKnownHosts.map(expand)
    }

    /// A line's keyword (lower-cased) and its arguments, or `nil` for a blank or comment line.
    /// Arguments are separated by white space; double quotes keep white space in one.
    static func parse(_ line: Substring) -> (String, [String])? {
        var words: [String] = []
        var current = ""
        var quoted = false, inWord = false
        for c in line {
            if c == "\"" { quoted.toggle(); inWord = true; continue }
            if !quoted && (c == " " || c == "\t" || (c == "=" && words.isEmpty)) {
                if inWord { words.append(current); current = ""; inWord = false }
                continue
            }
            if !quoted && c == "#" && !inWord { break }
            current.append(c)
            inWord = true
        }
        if inWord { words.append(current) }
        guard let keyword = words.first else { return nil }
        return (keyword.lowercased(), Array(words.dropFirst()))
    }

    /// Whether `host` matches a `Host` line: some pattern matches and no negated one does.
    static func matches(_ host: String, patterns: [String]) -> Bool {
        var matched = false
        for pattern in patterns {
            if pattern.hasPrefix("!") {
                if glob(Array(pattern.dropFirst().lowercased().utf8), Array(host.lowercased().utf8)) { return false }
            } else if glob(Array(pattern.lowercased().utf8), Array(host.lowercased().utf8)) {
                matched = true
            }
        }
        return matched
    }

    /// `*` (any run) and `?` (one character) matching, as ssh matches host patterns.
    static func glob(_ pattern: [UInt8], _ text: [UInt8]) -> Bool {
        var p = 0, t = 0
        var star: Int?, resume = 0
        while t < text.count {
            if p < pattern.count && (pattern[p] == UInt8(ascii: "?") || pattern[p] == text[t]) {
                p += 1; t += 1
            } else if p < pattern.count && pattern[p] == UInt8(ascii: "*") {
                star = p; resume = t; p += 1
            } else if let s = star {
                p = s + 1; resume += 1; t = resume
            } else {
                return false
            }
        }
        while p < pattern.count && pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }
}

private extension String {
    /// ssh's `%` tokens that the settings read here use: `%h` host, `%d` home, `%u` local
    /// user, `%r` remote user, `%%` a percent sign; others are left as written.
    func replacingPercent(host: String, home: String? = nil, localUser: String? = nil, remoteUser: String? = nil) -> String {
        guard contains("%") else { return self }
        var out = ""
        var percent = false
        for c in self {
            guard percent else {
                if c == "%" { percent = true } else { out.append(c) }
                continue
            }
            percent = false
            switch c {
            case "%": out.append("%")
            case "h": out += host
            case "d" where home != nil: out += home ?? ""
            case "u" where localUser != nil: out += localUser ?? ""
            case "r" where remoteUser != nil: out += remoteUser ?? ""
            default: out += "%\(c)"
            }
        }
        if percent { out.append("%") }
        return out
    }
}
