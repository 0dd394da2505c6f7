import Foundation

/// An access key pair (and, for temporary credentials, a session token) for S3.
///
/// Found, in order, in the environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// optional `AWS_SESSION_TOKEN`) or in the shared credentials file
/// (`AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`), section `AWS_PROFILE` or
/// `default`. The secret is never printed: `description` and reflection leave it out, and
/// nothing in snap puts it in a URL, a process argument or an error message.
public struct S3Credentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public let accessKeyID: String
    let secretAccessKey: String
    /// Sent as `x-amz-security-token` when present.
    public let sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    public var description: String {
        "S3Credentials(accessKeyID: \(accessKeyID), secret: <hidden>\(sessionToken == nil ? "" : ", session token: <hidden>"))"
    }

    public var debugDescription: String { description }

    /// No children, so `dump` and debuggers cannot show the secret.
    public var customMirror: Mirror { Mirror(self, children: [:]) }

    /// Finds credentials in the environment, else in the shared credentials file.
    ///
    /// - Parameter environment: the variables to read (the process environment by default).
    /// - Throws: `S3ConfigurationError` when no credentials are found, when only half of a
    ///   key pair is set, or when the credentials file cannot be read or lacks the profile.
    public static func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> S3Credentials {
        func value(_ name: String) -> String? {
            guard let v = environment[name]?.trimmingSpaces(), !v.isEmpty else { return nil }
            return v
        }
        let id = value("AWS_ACCESS_KEY_ID")
        let secret = value("AWS_SECRET_ACCESS_KEY")
        if let id, let secret {
            return S3Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: value("AWS_SESSION_TOKEN"))
        }
        if id != nil || secret != nil {
            let missing = id == nil ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY"
            throw S3ConfigurationError("\(missing) is not set, but its partner is: set both, or neither to use the shared credentials file")
        }

        let explicitFile = value("AWS_SHARED_CREDENTIALS_FILE")
        let path: String
        if let explicitFile {
            path = explicitFile.hasPrefix("~/") ? (value("HOME") ?? "~") + explicitFile.dropFirst(1) : explicitFile
        } else if let home = value("HOME") {
            path = "\(home)/.aws/credentials"
        } else {
            throw noCredentials(detail: "HOME is not set, so there is no ~/.aws/credentials")
        }
        let profile = value("AWS_PROFILE") ?? "default"

        guard FileManager.default.fileExists(atPath: path) else {
            if explicitFile != nil {
                throw S3ConfigurationError("the credentials file \(path) named by AWS_SHARED_CREDENTIALS_FILE does not exist")
            }
            throw noCredentials(detail: "\(path) does not exist")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw S3ConfigurationError("cannot read the credentials file \(path)")
        }
        let text = String(decoding: data, as: UTF8.self)
        return try fromSharedFile(text, profile: profile, path: path)
    }

    /// Reads one profile of a shared credentials file (INI: `[profile]` sections of
    /// `aws_access_key_id`, `aws_secret_access_key` and optional `aws_session_token`;
    /// `#` and `;` start comments).
    ///
    /// - Parameter path: named in error messages.
    /// - Throws: `S3ConfigurationError` when the profile is missing or incomplete.
    public static func fromSharedFile(_ text: String, profile: String, path: String) throws -> S3Credentials {
        var section: String?
        var found = false
        var values: [String: String] = [:]
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
            let line = String(rawLine).trimmingSpaces()
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]") else { section = nil; continue }
                var name = String(line.dropFirst().dropLast()).trimmingSpaces()
                // The config file's form, [profile NAME], is also accepted here.
                if name.hasPrefix("profile ") { name = String(name.dropFirst(8)).trimmingSpaces() }
                section = name
                if name == profile { found = true }
                continue
            }
            guard section == profile, let equals = line.firstIndex(of: "=") else { continue }
            let key = String(line[..<equals]).trimmingSpaces().lowercased()
            let value = String(line[line.index(after: equals)...]).trimmingSpaces()
            values[key] = value
        }
        guard found else {
            throw S3ConfigurationError("the credentials file \(path) has no [\(profile)] profile (set AWS_PROFILE to choose another)")
        }
        guard let id = values["aws_access_key_id"], !id.isEmpty,
              let secret = values["aws_secret_access_key"], !secret.isEmpty else {
            throw S3ConfigurationError("profile [\(profile)] in \(path) needs both aws_access_key_id and aws_secret_access_key")
        }
        let token = values["aws_session_token"] ?? values["aws_security_token"]
        return S3Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: token.flatMap { $0.isEmpty ? nil : $0 })
    }

    private static func noCredentials(detail: String) -> S3ConfigurationError {
        S3ConfigurationError("no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials), or write them to ~/.aws/credentials or the file named by AWS_SHARED_CREDENTIALS_FILE (\(detail))")
    }
}

/// A malformed S3 location, missing or unreadable credentials: something to fix in the setup.
public struct S3ConfigurationError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
