import ArgumentParser
import Foundation
import SnapComposition
import SnapCore
import SnapCrypto
import SnapEngine
import SnapRepository
import SnapStorage

/// Options every command accepts.
struct GlobalOptions: ParsableArguments {
    @Option(name: [.customShort("r", allowingJoined: true), .customLong("repo")], parsing: .unconditionalSingleValue, help: ArgumentHelp(
        "Repository location: a path, local:/path, s3:…, sftp:…, rest:… or rclone:… (default: $SNAP_REPOSITORY). "
            + "Repeat to keep the repository at several locations (a mirror).", valueName: "location"))
    var repositories: [String] = []

    @Option(name: [.customLong("repo-file"), .customLong("repository-file")], parsing: .unconditional, help: ArgumentHelp(
        "A JSON file naming the repository's replicas and where their credentials come from, or restic's file "
            + "holding one location (default: $SNAP_REPOSITORY_FILE); see docs/mirroring.md.", valueName: "file"))
    var repositoryFile: String?

    @Option(name: .customLong("mirror-policy"), parsing: .unconditional, help: "With several replicas, how many must take each write: all, quorum (a strict majority, the default) or any.")
    var mirrorPolicyOption: MirrorPolicy?

    @Option(name: [.customShort("p", allowingJoined: true), .customLong("password-file")], parsing: .unconditional, help: "Read the password from this file (default: $SNAP_PASSWORD_FILE).")
    var passwordFile: String?

    @Option(name: .customLong("password-command"), parsing: .unconditional, help: "Run this shell command and use its output as the password (default: $SNAP_PASSWORD_COMMAND).")
    var passwordCommand: String?

    @Option(name: .customLong("password-command-timeout"), parsing: .unconditional, help: ArgumentHelp(
        "Give up on the password command after this many seconds (default 60).", valueName: "seconds"))
    var passwordCommandTimeout: Double = 60

    @Option(name: .customLong("key-hint"), parsing: .unconditional, help: ArgumentHelp(
        "Try the key file whose ID begins so before the others (default: $SNAP_KEY_HINT).", valueName: "id"))
    var keyHint: String?

    @Option(name: .customLong("max-key-memory"), parsing: .unconditional, help: ArgumentHelp(
        "The most memory scrypt may use to open a key file, e.g. 4G (default: $SNAP_MAX_KEY_MEMORY, else 1G). "
            + "Key files that need more, or more than four times its worth of work, are skipped.", valueName: "size"))
    var maxKeyMemory: String?

    @Flag(help: "Print data as JSON.")
    var json = false

    @Flag(name: .shortAndLong, help: "Print only errors and warnings.")
    var quiet = false

    @Flag(name: [.customShort("v"), .customLong("verbose")], help: "Print more detail; -vv (or --verbose=2) more still (backup: -v lists new and changed files, -vv every file).")
    var verbosity: Int

    @Option(name: .customLong("progress-interval"), parsing: .unconditional, help: ArgumentHelp(
        "Print progress every this many seconds: also without a terminal, where none is printed otherwise "
            + "(with --json: status messages, every second by default).", valueName: "seconds"))
    var progressInterval: Double?

    var verbose: Bool { verbosity > 0 }

    @Option(parsing: .unconditional, help: "Calls allowed at once per storage backend.")
    var connections = 5

    @Option(name: .customLong("stuck-request-timeout"), parsing: .unconditional, help: ArgumentHelp(
        "Give up on a request to a remote repository that moves less than 1 KiB/s for this long, e.g. 30s, 5m "
            + "(default 60s); it is retried, but a read from a replica of a mirror moves on to the next replica.",
        valueName: "duration"))
    var stuckRequestTimeout: String?

    @Option(name: .customLong("retry-lock"), parsing: .unconditional, help: ArgumentHelp(
        "When another prune or 'repair index' holds the repository, have prune, forget and repair index try again "
            + "for this long, e.g. 10m, 2h (default: give up at once).", valueName: "duration"))
    var retryLock: String?

    @Flag(name: .customLong("no-lock"), help: ArgumentHelp(
        "check: write no lock, for storage this host may only read. Commands that only read (snapshots, ls, restore, "
            + "find, diff, dump, mount, stats, cat) and dry runs of backup, rewrite and prune never write one; commands that write always do."))
    var noLock = false

    @Option(name: .customLong("cacert"), parsing: .unconditionalSingleValue, help: ArgumentHelp(
        "Trust the certificate authorities in this PEM file instead of the system's, for S3 and REST over https "
            + "(repeatable; default: $SNAP_CACERT, files separated by commas).", valueName: "file"))
    var certificateAuthorities: [String] = []

    @Option(name: .customLong("tls-client-cert"), parsing: .unconditional, help: ArgumentHelp(
        "Show this certificate to https servers that ask for one: a PEM file with the certificate and its "
            + "unencrypted private key (default: $SNAP_TLS_CLIENT_CERT).", valueName: "file"))
    var clientCertificate: String?

    @Flag(name: .customLong("insecure-tls"), help: "Do not check the certificates of https servers. Anyone on the way can then read and change what snap sends and receives.")
    var insecureTLS = false

    @Option(name: .customLong("limit-upload"), parsing: .unconditional, help: ArgumentHelp(
        "Send at most this many KiB/s to remote repositories, all connections and replicas together (0: no limit).",
        valueName: "KiB/s"))
    var limitUpload = 0

    @Option(name: .customLong("limit-download"), parsing: .unconditional, help: ArgumentHelp(
        "Receive at most this many KiB/s from remote repositories, all connections and replicas together (0: no limit).",
        valueName: "KiB/s"))
    var limitDownload = 0

    @Option(name: .customLong("s3-object-lock-days"), parsing: .unconditional, help: "S3: keep every object written locked against deletion for N days.")
    var objectLockDays: Int?

    @Option(name: .customLong("s3-object-lock-mode"), parsing: .unconditional, help: "S3: object lock mode, GOVERNANCE or COMPLIANCE (default GOVERNANCE).")
    var objectLockMode = "GOVERNANCE"

    @Option(name: .customLong("s3-storage-class"), parsing: .unconditional, help: "S3: storage class for objects written (e.g. STANDARD_IA).")
    var storageClass: String?

    @Option(name: [.customShort("o"), .customLong("option")], parsing: .unconditionalSingleValue, help: ArgumentHelp(
        "restic's backend settings (repeatable): *.connections, s3.storage-class, s3.region, rclone.program; "
            + "others are refused with snap's way.", valueName: "key=value"))
    var resticOptions: [String] = []

    @Option(name: .customLong("cache-dir"), parsing: .unconditional, help: ArgumentHelp(
        "Keep local copies of the repository's index, snapshots and trees here (default: $SNAP_CACHE_DIR, "
            + "else $XDG_CACHE_HOME/snap for repositories not on this machine); see docs/cache.md.", valueName: "dir"))
    var cacheDirectory: String?

    @Flag(name: .customLong("no-cache"), help: "Use no local cache: read all metadata from the repository.")
    var noCache = false

    /// The `-o` settings, parsed.
    /// - Throws: `ValidationError` for the first that snap does not take.
    private func parsedResticOptions() throws -> [ResticBackendOption] {
        try resticOptions.map(ResticBackendOption.init(parsing:))
    }

    /// restic removes old cache folders only when asked; snap always does (docs/cache.md).
    @Flag(name: .customLong("cleanup-cache"), help: "Accepted as restic's: snap always removes cache folders unused for 30 days (see 'snap cache').")
    var cleanupCache = false

    func validate() throws {
        if quiet && verbosity > 0 { throw ValidationError("--quiet and --verbose cannot be given together") }
        if let progressInterval, !(progressInterval > 0 && progressInterval.isFinite) {
            throw ValidationError("--progress-interval must be a positive number of seconds")
        }
        guard passwordCommandTimeout > 0 && passwordCommandTimeout.isFinite else {
            throw ValidationError("--password-command-timeout must be a positive number of seconds")
        }
        if let text = maxKeyMemory { _ = try Self.keyMemory(text, from: "--max-key-memory") }
        _ = try parsedResticOptions()
        guard connections >= 1 && connections <= 64 else { throw ValidationError("--connections must be between 1 and 64") }
        if let text = stuckRequestTimeout, DurationOption.seconds(text) == nil {
            throw ValidationError("--stuck-request-timeout '\(text)' is not a duration from 1s to 168h, like 30s, 5m or 1m30s")
        }
        if let text = retryLock, DurationOption.seconds(text) == nil {
            throw ValidationError("--retry-lock '\(text)' is not a duration from 1s to 168h, like 30s, 10m or 2h")
        }
        for (name, rate) in [("--limit-upload", limitUpload), ("--limit-download", limitDownload)] where !(0...(1 << 30)).contains(rate) {
            throw ValidationError("\(name) must be a number of KiB/s from 0 (no limit) to \(1 << 30)")
        }
        if let days = objectLockDays, days < 1 { throw ValidationError("--s3-object-lock-days must be at least 1") }
        guard ["GOVERNANCE", "COMPLIANCE"].contains(objectLockMode.uppercased()) else {
            throw ValidationError("--s3-object-lock-mode must be GOVERNANCE or COMPLIANCE")
        }
    }

    /// Backend settings from the options above.
    var backendOptions: BackendOptions {
        var options = BackendOptions()
        options.connections = connections
        if let seconds = stuckRequestTimeout.flatMap(DurationOption.seconds) { options.stallSeconds = seconds }
        options.storageClass = storageClass
        options.objectLockDays = objectLockDays
        options.objectLockCompliance = objectLockMode.uppercased() == "COMPLIANCE"
        options.requestLog = RequestReport.log
        options.certificateAuthorities = certificateAuthorities
        options.clientCertificate = clientCertificate
        options.insecureTLS = insecureTLS
        options.limits = TransferLimits.shared(uploadKiB: limitUpload, downloadKiB: limitDownload)
        // `validate` refused any that does not parse.
        for option in (try? parsedResticOptions()) ?? [] { option.apply(to: &options) }
        let quiet = self.quiet
        options.report = { message in if !quiet { Output.error("warning: \(message)") } }
        return options
    }

    var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// `--retry-lock`: how long a command that another prune's lock refuses tries again,
    /// with a line (unless `-q`) when it starts waiting.
    func retryingLock<T>(_ body: () throws -> T) throws -> T {
        let retry = LockRetry(duration: Double(retryLock.flatMap(DurationOption.seconds) ?? 0))
        return try retry.run(waiting: { error, left in
            guard !quiet else { return }
            let holder = LockRetry.holder(of: error).map { " (host \($0.host), pid \($0.pid))" } ?? ""
            Output.error("note: another prune or 'repair index' holds the repository\(holder); "
                         + "trying again for up to \(Int(left.rounded())) s (--retry-lock)")
        }, body)
    }

    /// One replica as named by `-r` or the repository file.
    struct ReplicaSpec {
        let location: String
        /// Variables the provider reads → the variables of snap's environment that hold their values.
        let env: [String: String]
    }

    /// The repository file: `{"replicas": [{"location": "…", "env": {"AWS_ACCESS_KEY_ID": "VAR", …}}], "policy": "quorum"}`.
    /// A key it does not know is refused, not passed over: the file sets the write policy, and
    /// a misspelt `"polcy"` must not silently mean the default.
    private struct RepositoryFile: Decodable {
        struct Entry: Decodable {
            let location: String
            let env: [String: String]?

            init(location: String, env: [String: String]?) {
                self.location = location
                self.env = env
            }

            init(from decoder: Decoder) throws {
                try refuseUnknownKeys(decoder, known: ["location", "env"])
                let c = try decoder.container(keyedBy: Key.self)
                location = try c.decode(String.self, forKey: Key("location"))
                env = try c.decodeIfPresent([String: String].self, forKey: Key("env"))
            }
        }
        let replicas: [Entry]
        let policy: MirrorPolicy?

        init(replicas: [Entry], policy: MirrorPolicy?) {
            self.replicas = replicas
            self.policy = policy
        }

        init(from decoder: Decoder) throws {
            try refuseUnknownKeys(decoder, known: ["replicas", "policy"])
            let c = try decoder.container(keyedBy: Key.self)
            replicas = try c.decode([Entry].self, forKey: Key("replicas"))
            policy = try c.decodeIfPresent(MirrorPolicy.self, forKey: Key("policy"))
        }
    }

    /// Any key of a JSON object, by name.
    private struct Key: CodingKey {
        let stringValue: String
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    private static func refuseUnknownKeys(_ decoder: Decoder, known: Set<String>) throws {
        let c = try decoder.container(keyedBy: Key.self)
        if let unknown = c.allKeys.map(\.stringValue).sorted().first(where: { !known.contains($0) }) {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "unknown key \"\(unknown)\" (known here: \(known.sorted().joined(separator: ", ")))"))
        }
    }

    /// What is wrong with a JSON document, in a few words (not `DecodingError`'s debug text).
    private static func briefly(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "no \"\(key.stringValue)\""
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "\"\(context.codingPath.map(\.stringValue).joined(separator: "."))\" has the wrong type"
        case DecodingError.dataCorrupted(let context) where context.codingPath.last?.stringValue == "policy":
            return "\"policy\" must be one of \(MirrorPolicy.allCases.map(\.rawValue).joined(separator: ", "))"
        case DecodingError.dataCorrupted(let context) where context.debugDescription.hasPrefix("unknown key"):
            return context.debugDescription
        default: return "not JSON"
        }
    }

    /// The repository file named by --repo-file, or by SNAP_REPOSITORY_FILE when no -r is given:
    /// JSON listing replicas, or (restic's form) one location.
    private func repositoryFileContents() throws -> RepositoryFile? {
        guard let path = repositoryFile ?? (repositories.isEmpty ? environment["SNAP_REPOSITORY_FILE"] : nil), !path.isEmpty else {
            return nil
        }
        let data: Data
        do {
            data = Data(try SmallFile.read(path, limit: 1 << 20, keep: true))
        } catch {
            throw CLIError("cannot read repository file \(path): \(error.cause)")
        }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        // restic's repository file: the location alone, white space around it removed.
        if !text.hasPrefix("{") {
            guard !text.isEmpty, !text.contains(where: \.isNewline) else {
                throw CLIError("repository file \(path) holds \(text.isEmpty ? "nothing" : "more than one line"): give one location, "
                               + "or JSON listing replicas ({\"replicas\":[{\"location\":\"…\"}]}, docs/mirroring.md)")
            }
            return RepositoryFile(replicas: [.init(location: text, env: nil)], policy: nil)
        }
        let file: RepositoryFile
        do {
            file = try JSONDecoder().decode(RepositoryFile.self, from: data)
        } catch {
            throw CLIError("repository file \(path) is not valid: expected JSON listing replicas "
                           + "({\"replicas\":[{\"location\":\"…\"}]}, docs/mirroring.md) or one location (\(Self.briefly(error)))")
        }
        guard !file.replicas.isEmpty else { throw CLIError("repository file \(path) names no replicas") }
        return file
    }

    /// The replicas, in the order reads try them: the repository file's, then each -r;
    /// SNAP_REPOSITORY only when neither is given.
    func replicaSpecs() throws -> [ReplicaSpec] {
        // Neither variable beats the other, so with no option to decide, both set is refused
        // (as restic refuses its two).
        if repositoryFile == nil && repositories.isEmpty, !(environment["SNAP_REPOSITORY"] ?? "").isEmpty,
           !(environment["SNAP_REPOSITORY_FILE"] ?? "").isEmpty {
            throw CLIError("SNAP_REPOSITORY and SNAP_REPOSITORY_FILE are both set: unset one, or give -r or --repo-file")
        }
        var specs = try repositoryFileContents()?.replicas.map { ReplicaSpec(location: $0.location, env: $0.env ?? [:]) } ?? []
        specs += repositories.map { ReplicaSpec(location: $0, env: [:]) }
        if specs.isEmpty, let location = environment["SNAP_REPOSITORY"], !location.isEmpty {
            specs = [ReplicaSpec(location: location, env: [:])]
        }
        guard !specs.isEmpty else {
            throw CLIError("no repository given: use -r/--repo or --repo-file, or set SNAP_REPOSITORY or SNAP_REPOSITORY_FILE"
                           + ResticVariables.note(["RESTIC_REPOSITORY", "RESTIC_REPOSITORY_FILE"], environment: environment))
        }
        // One place counted as two replicas would meet `quorum` or `all` with a single copy.
        var seen: [String: String] = [:]
        for spec in specs {
            let place = RepositoryLocation.canonical(spec.location)
            if let first = seen[place] {
                let spelled = first == spec.location ? "" : " (as \(RepositoryLocation.redacted(first)) and \(RepositoryLocation.redacted(spec.location)))"
                throw CLIError("\(RepositoryLocation.redacted(spec.location)) is given twice\(spelled): each replica of a mirror must be "
                               + "another place; give each location once")
            }
            seen[place] = spec.location
        }
        return specs
    }

    /// Backend settings for one replica, with its variables taken from where its `env` says.
    func backendOptions(for spec: ReplicaSpec) throws -> BackendOptions {
        var options = backendOptions
        for (variable, source) in spec.env {
            guard let value = environment[source] else {
                throw CLIError("replica \(RepositoryLocation.redacted(spec.location)): \(variable) is to come from $\(source), which is not set")
            }
            options.environment[variable] = value
        }
        return options
    }

    /// One replica: its backend stack and its name for messages (the location without credentials).
    /// - Parameter mirrored: one of several replicas: its reads are retried once, not five
    ///   times, and not at all after a timeout, since the mirror moves on to the next replica
    ///   (`RetryPolicy.readAttempts`, `timedOutReadAttempts`).
    func replica(_ spec: ReplicaSpec, mirrored: Bool = false) throws -> Replica {
        var options = try backendOptions(for: spec)
        if mirrored {
            options.retry.readAttempts = 2
            options.retry.timedOutReadAttempts = 1
        }
        let backend = try RepositoryLocation.backend(for: spec.location, options: options)
        return Replica(name: backend.location, backend: backend)
    }

    /// Every replica of the repository, in the order reads try them.
    func replicas() throws -> [Replica] {
        let specs = try replicaSpecs()
        return try specs.map { try replica($0, mirrored: specs.count > 1) }
    }

    /// How many replicas must take each write: --mirror-policy, else the repository file's policy, else quorum.
    var mirrorPolicy: MirrorPolicy {
        mirrorPolicyOption ?? (try? repositoryFileContents()?.policy) ?? .quorum
    }

    /// The (first) repository location as given.
    func location() throws -> String { try replicaSpecs()[0].location }

    /// The backend stack for the repository: one location's, or a mirror of all replicas.
    /// Mirror warnings (a lagging replica, a damaged copy) are printed even with --quiet.
    func backend() throws -> Backend {
        RepositoryLocation.backend(for: try replicas(), policy: mirrorPolicy, report: Self.warn)
    }

    /// The password, from the first source that is set: the option given (not both), then
    /// `SNAP_PASSWORD_COMMAND`, `SNAP_PASSWORD_FILE`, `SNAP_PASSWORD`, the terminal. An option
    /// beats the environment: a variable left in a profile never overrides what was typed.
    func password(confirm: Bool = false) throws -> String {
        switch (passwordCommand, passwordFile) {
        case (_?, _?):
            throw CLIError("--password-file and --password-command are mutually exclusive; give one", exitCode: 64)
        case let (command?, nil):
            return try PasswordSource.run(command: command, timeout: passwordCommandTimeout)
        case let (nil, file?):
            return try PasswordSource.read(file: file)
        case (nil, nil):
            break
        }
        if let command = environment["SNAP_PASSWORD_COMMAND"] {
            return try PasswordSource.run(command: command, timeout: passwordCommandTimeout)
        }
        if let file = environment["SNAP_PASSWORD_FILE"] {
            return try PasswordSource.read(file: file)
        }
        if let value = environment["SNAP_PASSWORD"] {
            guard !value.isEmpty else { throw CLIError("SNAP_PASSWORD is set but empty") }
            return value
        }
        return try PasswordSource.prompt(confirm: confirm)
    }

    /// Warns about a snapshot file that cannot be read and is left out.
    func snapshotSkipped(_ id: SnapshotID, _ error: Error) {
        Output.error("warning: snapshot \(id.short) skipped: \(error)")
    }

    /// Loads the repository's index, warning about index files that cannot be read.
    /// - Parameter listed: the index files, when just listed; `nil` lists them.
    func loadIndex(_ repository: Repository, listed: [IndexID]? = nil) throws {
        try repository.loadIndex(listed: listed) { id, error in
            Output.error("warning: index \(id.short) skipped: \(error)")
        }
    }

    /// The smallest memory limit accepted: scrypt with N = 2^10, r = 8 needs about 1 MiB.
    static let smallestKeyMemory: UInt64 = 1 << 20

    /// A memory limit for scrypt, parsed from `text` (named `source` in errors).
    static func keyMemory(_ text: String, from source: String) throws -> UInt64 {
        guard let bytes = ByteSize.parse(text), bytes >= smallestKeyMemory else {
            throw ValidationError("\(source) must be a size of at least 1M, like 512M or 4G, not '\(text)'")
        }
        return bytes
    }

    /// The limits on scrypt when opening a key file: --max-key-memory, else $SNAP_MAX_KEY_MEMORY, else 1 GiB.
    func keyLimits() throws -> Scrypt.Limits {
        if let text = maxKeyMemory { return Scrypt.Limits(maxMemory: try Self.keyMemory(text, from: "--max-key-memory")) }
        if let text = environment["SNAP_MAX_KEY_MEMORY"], !text.isEmpty {
            do {
                return Scrypt.Limits(maxMemory: try Self.keyMemory(text, from: "SNAP_MAX_KEY_MEMORY"))
            } catch let error as ValidationError {
                throw CLIError(error.message)
            }
        }
        return Scrypt.Limits()
    }

    /// The cache root for this repository (docs/cache.md), created with its tag; `nil` when
    /// there is none (`--no-cache`, a repository only on local disks) or it cannot be made.
    func cacheRoot(warn: @Sendable (String) -> Void = Self.warn) throws -> String? {
        cacheRoot(for: try replicaSpecs().map(\.location), warn: warn)
    }

    /// The cache root for a repository kept at `locations`, created with its tag; `nil` as above.
    private func cacheRoot(for locations: [String], warn: @Sendable (String) -> Void = Self.warn) -> String? {
        guard let dir = CacheLocation.root(disabled: noCache, explicit: cacheDirectory,
                                           locations: locations, environment: environment) else { return nil }
        return CacheLocation.prepare(dir, report: warn) ? dir : nil
    }

    /// Where this machine's key hint and copies for the repository lie, with or without
    /// `--no-cache`, for `key passwd` and `key remove` to forget them; nothing is created.
    func keyHintRoot() -> String? {
        guard let locations = try? replicaSpecs().map(\.location) else { return nil }
        return CacheLocation.root(disabled: false, explicit: cacheDirectory, locations: locations, environment: environment)
    }

    /// Where a repository kept at `locations` keeps what it keeps on this machine
    /// (docs/cache.md), as `Repository.open` takes it.
    struct LocalFolders {
        /// The metadata cache; `nil` with `--no-cache` or for a repository only on local disks.
        var cache: String?
        /// Where the index table goes when there is no cache (a repository only on local disks);
        /// `nil` with `--no-cache`, when the table is built in a temporary folder instead.
        var index: String?
        /// Where `--no-cache` still reads the key hint (a key file's name, no copy of
        /// repository data); nothing is written there.
        var hint: String?
    }

    /// The local folders of a repository kept at `locations` (this one's, or `copy`'s source).
    /// - Parameter cache: `false` for a command that judges the repository itself (`repair`).
    func localFolders(for locations: [String], cache: Bool = true) -> LocalFolders {
        let root = cache ? cacheRoot(for: locations) : nil
        return LocalFolders(
            cache: root,
            index: cache && root == nil ? CacheLocation.indexRoot(disabled: noCache, environment: environment) : nil,
            hint: noCache ? CacheLocation.root(disabled: false, explicit: cacheDirectory, locations: locations, environment: environment) : nil)
    }

    /// Prints a warning line on standard error.
    static let warn: @Sendable (String) -> Void = { Output.error("warning: \($0)") }

    /// Opens the repository, loads nothing else.
    ///
    /// Key files skipped on the way (above the scrypt limits, damaged) are named in warnings,
    /// and in the error when no key opens.
    ///
    /// - Parameters:
    ///   - cache: whether to use the local metadata cache; `repair` judges the repository
    ///     itself, so it does not.
    ///   - cachedKinds: what the cache serves: `check --read-data` reads only tree packs from it.
    ///   - keyCopies: whether the cache's copies of the key file and `config` may open the
    ///     repository (docs/cache.md); `check` reads both from the repository.
    ///   - password: the password when the caller has it already (`key passwd`); read as
    ///     `password()` says otherwise.
    func openRepository(cache: Bool = true, cachedKinds: Set<FileKind> = CachingBackend.cachedKinds,
                        keyCopies: Bool = true, password given: String? = nil) throws -> Repository {
        let limits = try keyLimits()
        for spec in try replicaSpecs() { try RepositoryLocation.checkLocal(spec.location) }
        let backend = try backend()
        let warn = Self.warn
        let folders = localFolders(for: try replicaSpecs().map(\.location), cache: cache)
        let hint = "; raise it with --max-key-memory"
        let quiet = self.quiet
        do {
            return try Repository.open(backend: backend, password: try given ?? password(), keyLimits: limits, cacheRoot: folders.cache,
                                       indexCacheRoot: folders.index, hintRoot: folders.hint,
                                       cachedKinds: cachedKinds, keyCopies: keyCopies, keyHint: keyHint ?? environment["SNAP_KEY_HINT"],
                                       report: warn) { key in
                // A key file above this machine's limit is another host's (quiet under -q);
                // a damaged or foreign one in keys/ is worth a line even in a cron job.
                if !quiet || !key.isAboveLimit { Output.error("warning: \(key)\(key.isAboveLimit ? hint : "")") }
            }
        } catch let error as RepositoryError {
            switch error {
            case let .wrongPassword(_, skipped), let .noUsableKey(_, skipped):
                if skipped.contains(where: \.isAboveLimit) {
                    throw CLIError("\(error)\(hint) or SNAP_MAX_KEY_MEMORY", exitCode: Exit.code(for: error))
                }
                throw error
            default:
                throw error
            }
        }
    }
}

extension MirrorPolicy: ExpressibleByArgument {}
