import Foundation
import SnapCore
import SnapCrypto
import SnapHTTP
import SnapRemote
import SnapStorage
import Synchronization

/// Choices that shape the backend stack, from command-line options.
public struct BackendOptions: Sendable {
    /// Calls allowed at once per backend (`--connections`).
    public var connections = 5
    /// Seconds a remote request may move less than 1 KiB/s before it fails as timed out
    /// (`--stuck-request-timeout`).
    public var stallSeconds = 60
    public var retry = RetryPolicy()
    /// S3: keep every object written locked for this many days (`--s3-object-lock-days`)…
    public var objectLockDays: Int?
    /// …in COMPLIANCE mode (nobody can shorten it) rather than GOVERNANCE (`--s3-object-lock-mode`).
    public var objectLockCompliance = false
    /// S3: storage class for every object written (`--s3-storage-class`).
    public var storageClass: String?
    /// PEM files of the certificate authorities that servers reached over TLS must chain to
    /// (`--cacert`); empty: `SNAP_CACERT` (files separated by commas), else the system's.
    public var certificateAuthorities: [String] = []
    /// A PEM file with the certificate and key to show servers that ask (`--tls-client-cert`;
    /// else `SNAP_TLS_CLIENT_CERT`).
    public var clientCertificate: String?
    /// Accept any server certificate (`--insecure-tls`).
    public var insecureTLS = false
    /// The rates remote transfers keep to (`--limit-upload`, `--limit-download`), shared by
    /// every backend given the same limits.
    public var limits = BandwidthLimits()
    /// Where credentials and settings are looked up.
    public var environment: [String: String] = ProcessInfo.processInfo.environment
    /// Told about retries and other recoverable trouble, for warning lines.
    public var report: @Sendable (String) -> Void = { _ in }
    /// Where each provider's `CountingBackend` is registered, so that the command can report
    /// its requests; `nil`: requests are not counted.
    public var requestLog: RequestLog?
    public init() {}
}

/// Turns a repository location string into the backend stack every command uses.
///
/// This is the only place that knows which providers and decorators exist. The stack is
/// provider → request counting (when `BackendOptions.requestLog` is set) → fault injection
/// (tests only, `SNAP_FAULT_INJECTION`) → retry → connection limit.
public enum RepositoryLocation {
    /// Errors in a location string or in the settings it needs.
    public struct Invalid: Error, CustomStringConvertible {
        public let location: String
        public let reason: String
        public var description: String { "invalid repository location '\(location)': \(reason)" }
    }

    /// Builds the backend stack for `location`:
    /// a path or `local:PATH`, `s3:…`, `sftp:…`, `rest:URL`, `rclone:REMOTE:PATH`.
    public static func backend(for location: String, options: BackendOptions = BackendOptions()) throws -> Backend {
        var stack = try provider(for: location, options: options)
        if let log = options.requestLog { stack = log.counting(stack) }
        if let faults = options.environment["SNAP_FAULT_INJECTION"], !faults.isEmpty {
            stack = try FaultInjectionSetting.wrap(stack, setting: faults)
        }
        stack = RetryingBackend(stack, policy: options.retry, report: options.report)
        return LimitedBackend(stack, connections: options.connections)
    }

    /// Whether `bytes` are the content that `file`'s name promises: the lower-case hex
    /// SHA-256 of the bytes (key files, packs, index files, snapshots). A mirror uses it to
    /// fail over from damaged copies, and `snap mirror` to check copies without the password.
    public static let verifyName: NameVerifier = { file, bytes in
        Hex.encode(SHA256.hash(bytes)) == file.name
    }

    /// The backend for a repository kept at `replicas`: the one replica's stack itself, or a
    /// mirror over them all that checks whole files against their names.
    ///
    /// - Parameter report: told about lagging replicas, fail-overs and damaged copies.
    public static func backend(for replicas: [Replica], policy: MirrorPolicy,
                               report: @escaping @Sendable (String) -> Void) -> Backend {
        if replicas.count == 1 { return replicas[0].backend }
        return MirrorBackend(replicas: replicas, policy: policy, verifyName: verifyName, report: report)
    }

    /// Prepares a new repository's location where the provider needs it: creates the S3
    /// bucket (with object lock when retention is asked for) or the REST repository.
    public static func prepareForInit(location: String, options: BackendOptions = BackendOptions()) throws {
        let backend = try provider(for: location, options: options)
        if let s3 = backend as? S3Backend { try s3.createBucket(objectLock: options.objectLockDays != nil) }
        if let rest = backend as? RESTBackend { try rest.create() }
    }

    /// Whether `location` names a folder on this machine (a path or `local:PATH`).
    public static func isLocal(_ location: String) -> Bool {
        !["s3:", "sftp:", "rest:", "rclone:"].contains { location.hasPrefix($0) }
    }

    /// A spelling of `location` that two spellings of one place share: for a folder on this
    /// machine its absolute path with `.`, `..` and symlinks resolved; otherwise the location
    /// without a trailing `/`. Used to refuse one place given twice as two mirror replicas.
    public static func canonical(_ location: String) -> String {
        guard isLocal(location) else { return location.hasSuffix("/") ? String(location.dropLast()) : location }
        let path = location.hasPrefix("local:") ? String(location.dropFirst(6)) : location
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        return URL(fileURLWithPath: absolute).standardizedFileURL.resolvingSymlinksInPath().path
    }

    /// Hides credentials embedded in a location (`user:password@`) for messages.
    public static func redacted(_ location: String) -> String {
        guard let schemeEnd = location.range(of: "://"), let at = location[schemeEnd.upperBound...].firstIndex(of: "@") else {
            return location
        }
        let userInfo = location[schemeEnd.upperBound..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return location }
        return String(location[..<colon]) + ":***" + String(location[at...])
    }

    /// The libcurl session of one provider: `options`' connections, stall time, TLS
    /// settings and rate limits.
    /// - Throws: `TLSSettingsError` for a certificate file that cannot be used.
    /// - Parameter s3: an S3 provider's session, which also takes AWS's `AWS_CA_BUNDLE`.
    private static func session(_ options: BackendOptions, s3: Bool = false) throws -> CurlSession {
        CurlSession(maxHandles: options.connections, tls: try tlsSettings(options, s3: s3), stallSeconds: options.stallSeconds, limits: options.limits)
    }

    /// The certificate files the options and variables name, read and checked.
    /// - Throws: `TLSSettingsError` for a certificate file that cannot be used.
    private static func tlsSettings(_ options: BackendOptions, s3: Bool = false) throws -> TLSSettings {
        let env = options.environment
        var authorities = options.certificateAuthorities
        var source = "--cacert"
        if authorities.isEmpty {
            // SNAP_CA_BUNDLE is the name S3 repositories used before --cacert.
            let names = ["SNAP_CACERT", "SNAP_CA_BUNDLE"] + (s3 ? ["AWS_CA_BUNDLE"] : [])
            if let name = names.first(where: { !(env[$0] ?? "").isEmpty }), let variable = env[name] {
                authorities = variable.split(separator: ",").map(String.init)
                source = "$\(name)"
            }
        }
        let clientCertificate = options.clientCertificate ?? env["SNAP_TLS_CLIENT_CERT"].flatMap { $0.isEmpty ? nil : $0 }
        let clientSource = options.clientCertificate == nil ? "$SNAP_TLS_CLIENT_CERT" : "--tls-client-cert"
        func pem(_ path: String, _ option: String) throws -> TLSSettings.PEMFile {
            do {
                return (path, try SmallFile.read(path, limit: TLSSettings.largestFile, keep: true))
            } catch {
                throw TLSSettingsError(path: path, option: option, reason: error.reason)
            }
        }
        return try TLSSettings(authorities: try authorities.map { try pem($0, source) },
                               clientCertificate: try clientCertificate.map { try pem($0, clientSource) },
                               insecure: options.insecureTLS, authoritySource: source, clientSource: clientSource)
    }

    /// A local repository: `--cacert` and `--tls-client-cert` files given on the command
    /// line are still read and checked (as restic does), so one given by mistake is not
    /// passed over in silence. The variables are not, since they may be set for other
    /// repositories.
    private static func local(_ path: String, options: BackendOptions) throws -> Backend {
        if !options.certificateAuthorities.isEmpty || options.clientCertificate != nil {
            var named = options
            named.environment = [:]
            _ = try tlsSettings(named)
        }
        return LocalBackend(root: path)
    }

    private static func provider(for location: String, options: BackendOptions) throws -> Backend {
        let env = options.environment
        func invalid(_ reason: String) -> Invalid { Invalid(location: redacted(location), reason: reason) }
        if location.isEmpty { throw invalid("empty; give -r/--repo or set SNAP_REPOSITORY") }
        if location.hasPrefix("local:") {
            let path = String(location.dropFirst("local:".count))
            guard !path.isEmpty else { throw invalid("no path after 'local:'") }
            return try local(path, options: options)
        }
        if location.hasPrefix("s3:") {
            do {
                let s3 = try S3Location.parse(location, environment: env)
                var s3Options = S3Backend.Options()
                s3Options.objectLock = options.objectLockDays.map { .init(mode: options.objectLockCompliance ? .compliance : .governance, days: $0) }
                s3Options.storageClass = options.storageClass
                return try S3Backend(location: s3, credentials: try S3Credentials.resolve(environment: env),
                                     options: s3Options, session: try session(options, s3: true))
            } catch let error as S3ConfigurationError {
                throw invalid(error.description)
            }
        }
        if location.hasPrefix("sftp:") {
            let target: SFTPLocation
            do { target = try SFTPLocation(parsing: location) } catch { throw invalid("\(error)") }
            let (resolved, ssh) = try sshSettings(for: target, environment: env)
            return try SFTPBackend(location: resolved, ssh: ssh, session: try session(options))
        }
        if location.hasPrefix("rest:") {
            var url = String(location.dropFirst("rest:".count))
            guard url.hasPrefix("http://") || url.hasPrefix("https://") else { throw invalid("expected rest:http(s)://HOST:PORT/PATH") }
            var username = env["SNAP_REST_USERNAME"], password = env["SNAP_REST_PASSWORD"]
            // Credentials written into the URL work too, but are moved out of it so they never appear in messages.
            if let schemeEnd = url.range(of: "://"), let at = url[schemeEnd.upperBound...].firstIndex(of: "@") {
                let userInfo = url[schemeEnd.upperBound..<at]
                let parts = userInfo.split(separator: ":", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
                username = parts.first
                password = parts.count > 1 ? parts[1] : password
                url = String(url[..<schemeEnd.upperBound]) + String(url[url.index(after: at)...])
            }
            return RESTBackend(url: url, username: username, password: password, session: try session(options))
        }
        if location.hasPrefix("rclone:") {
            let remote = String(location.dropFirst("rclone:".count))
            guard remote.contains(":") || remote.hasPrefix("/") else { throw invalid("expected rclone:REMOTE:PATH") }
            let session = try session(options)  // a certificate file refused before rclone starts
            let server = try RcloneServer(remote: remote, rclone: env["SNAP_RCLONE_PROGRAM"] ?? "rclone")
            return RESTBackend(rclone: server, session: session)
        }
        return try local(location, options: options)
    }

    /// The server, port, user, key and host-key settings for an SFTP location: the
    /// location's own, then `SNAP_SFTP_*`, then `~/.ssh/config` for its host name (or
    /// `SNAP_SFTP_CONFIG`; `HostName`, `User`, `Port`, `IdentityFile`, `UserKnownHostsFile`),
    /// then OpenSSH's defaults. The SSH agent (`SSH_AUTH_SOCK`) is asked after the key file,
    /// or alone when there is no key file.
    private static func sshSettings(for target: SFTPLocation, environment env: [String: String]) throws -> (SFTPLocation, SSHOptions) {
        let home = env["HOME"] ?? NSHomeDirectory()
        let fm = FileManager.default
        let localUser = env["USER"] ?? "root"
        let configPath = env["SNAP_SFTP_CONFIG"] ?? "\(home)/.ssh/config"
        let config = fm.contents(atPath: configPath).map { SSHHostSettings(for: target.host, in: String(decoding: $0, as: UTF8.self), home: home, localUser: localUser) }
            ?? SSHHostSettings()
        var resolved = target
        resolved.host = config.hostName ?? target.host
        if !target.portGiven, let port = config.port { resolved.port = port }
        let defaults = ["id_ed25519", "id_ecdsa"].map { "\(home)/.ssh/\($0)" }
        let key = env["SNAP_SFTP_KEY"] ?? (config.identityFiles + defaults).first { fm.fileExists(atPath: $0) }
        let agent = env["SSH_AUTH_SOCK"].map { !$0.isEmpty && fm.fileExists(atPath: $0) } ?? false
        guard key != nil || agent else {
            throw Invalid(location: "sftp:\(target.host)",
                          reason: "no SSH key: set SNAP_SFTP_KEY, create ~/.ssh/id_ed25519, or load a key into ssh-agent (RSA keys do not work with this libssh2)")
        }
        let publicKey = key.map { $0 + ".pub" }.flatMap { fm.fileExists(atPath: $0) ? $0 : nil }
        let knownHosts = env["SNAP_SFTP_KNOWN_HOSTS"] ?? ([config.knownHostsFile, "\(home)/.ssh/known_hosts"].compactMap { $0 }.first { fm.fileExists(atPath: $0) })
        let user = target.user ?? config.user ?? localUser
        return (resolved, SSHOptions(user: user, privateKeyPath: key, publicKeyPath: publicKey, keyPassphrase: env["SNAP_SFTP_KEY_PASSPHRASE"],
                                     useAgent: agent, hostKeySHA256: env["SNAP_SFTP_HOST_KEY_SHA256"], knownHostsPath: knownHosts))
    }
}

/// Parses `SNAP_FAULT_INJECTION` (for tests): `transient=0.2,seed=7[,methods=read+write]`
/// fails that share of calls; `delay=25,methods=delete,kind=locks` makes each such call wait
/// 25 s first (a storage that stopped answering some requests).
enum FaultInjectionSetting {
    static func wrap(_ backend: Backend, setting: String) throws -> Backend {
        var probability = 0.0, seed: UInt64 = 1
        var delay: Double?
        var kind: FileKind?
        var methods = BackendMethod.allCases
        func invalid(_ reason: String) -> RepositoryLocation.Invalid {
            RepositoryLocation.Invalid(location: backend.location, reason: "\(reason) in SNAP_FAULT_INJECTION '\(setting)'")
        }
        for part in setting.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { throw invalid("'\(part)' is not KEY=VALUE") }
            switch kv[0] {
            case "transient": probability = Double(kv[1]) ?? 0
            case "seed": seed = UInt64(kv[1]) ?? 1
            case "methods": methods = kv[1].split(separator: "+").compactMap { BackendMethod(rawValue: String($0)) }
            case "delay":
                guard let seconds = Double(kv[1]), seconds >= 0 else { throw invalid("bad delay '\(kv[1])'") }
                delay = seconds
            case "kind":
                guard let named = FileKind(rawValue: kv[1]) else { throw invalid("unknown kind '\(kv[1])'") }
                kind = named
            default: throw invalid("unknown key '\(kv[0])'")
            }
        }
        let rules = methods.map { method in
            if let delay { FaultRule(method, .delay(delay), probability: 1, kind: kind) }
            else { FaultRule(method, .transient, probability: probability, kind: kind) }
        }
        return FaultInjectingBackend(backend, rules: rules, seed: seed)
    }
}
