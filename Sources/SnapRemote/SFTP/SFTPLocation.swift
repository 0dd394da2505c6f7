/// Where an SFTP repository is: `sftp:USER@HOST:/path`, `sftp:HOST:path` (relative to the
/// login folder) or `sftp://USER@HOST:PORT/path`.
public struct SFTPLocation: Sendable, Equatable {
    public var user: String?
    public var host: String
    public var port: Int
    /// Whether the location named the port (`sftp://HOST:PORT/…`); otherwise `~/.ssh/config` may.
    public var portGiven = false
    /// Absolute, or relative to the login folder when it does not start with `/`.
    public var path: String

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    public init(parsing text: String) throws {
        guard text.hasPrefix("sftp:") else { throw Invalid(description: "'\(text)' does not start with sftp:") }
        var rest = Substring(text.dropFirst("sftp:".count))
        var port = 22
        if rest.hasPrefix("//") {
            rest = rest.dropFirst(2)
            guard let slash = rest.firstIndex(of: "/") else { throw Invalid(description: "no path in '\(text)'") }
            var authority = rest[..<slash]
            path = String(rest[slash...])
            if let at = authority.lastIndex(of: "@") {
                user = String(authority[..<at])
                authority = authority[authority.index(after: at)...]
            }
            if let colon = authority.lastIndex(of: ":") {
                guard let p = Int(authority[authority.index(after: colon)...]), (1...65535).contains(p) else {
                    throw Invalid(description: "invalid port in '\(text)'")
                }
                port = p
                portGiven = true
                authority = authority[..<colon]
            }
            host = String(authority)
        } else {
            guard let colon = rest.firstIndex(of: ":") else { throw Invalid(description: "expected sftp:USER@HOST:/path, got '\(text)'") }
            var authority = rest[..<colon]
            path = String(rest[rest.index(after: colon)...])
            if let at = authority.lastIndex(of: "@") {
                user = String(authority[..<at])
                authority = authority[authority.index(after: at)...]
            }
            host = String(authority)
        }
        self.port = port
        guard !host.isEmpty else { throw Invalid(description: "no host in '\(text)'") }
        guard !path.isEmpty else { throw Invalid(description: "no path in '\(text)'") }
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
    }

    /// The URL of `relative` below the repository folder, as libcurl wants it
    /// (`/~/` marks a path relative to the login folder).
    func url(_ relative: String) -> String {
        let root = path.hasPrefix("/") ? path : "/~/" + path
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return "sftp://\(hostPart):\(port)\(root)/\(relative)"
    }

    /// The absolute or login-relative path used in SFTP commands (`rm`, `rename`).
    func commandPath(_ relative: String) -> String {
        "\(path)/\(relative)"
    }
}
