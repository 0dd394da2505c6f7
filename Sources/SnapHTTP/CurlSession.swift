import CCurlShim
import Synchronization

/// Performs transfers with a pool of reusable libcurl handles, so connections (and TLS
/// and SSH sessions) are kept between calls. Thread-safe; at most `maxHandles` handles
/// are kept idle.
public final class CurlSession: Sendable {
    private let idle = Mutex<[EasyHandle]>([])
    private let maxHandles: Int
    private let settings: SessionSettings

    /// - Parameters:
    ///   - tls: which servers' certificates are trusted, and snap's own certificate.
    ///   - stallSeconds: how long a transfer may stall (below 1 KiB/s) before it fails with
    ///     `TransferError.Kind.timedOut` (`--stuck-request-timeout`), rather than hanging on a
    ///     server that took the request and never answers.
    ///   - limits: the rates that this session's transfers (with those of every other session
    ///     given the same limits) keep to.
    public init(maxHandles: Int = 8, tls: TLSSettings = TLSSettings(), stallSeconds: Int = 60,
                limits: BandwidthLimits = BandwidthLimits()) {
        self.maxHandles = maxHandles
        // A transfer under a rate limit shares it with up to `maxHandles` others: its own
        // share may be below 1 KiB/s, and it may wait for the others' pieces longer than a
        // stall may last, without being stuck.
        let rates = [limits.upload, limits.download].compactMap { $0?.bytesPerSecond }
        let slowest = rates.map { $0 / (2 * max(1, maxHandles)) }
        let longestTurn = rates.map { Int((Double(max(1, maxHandles) * BandwidthLimit.largestPiece) / Double($0)).rounded(.up)) }
        settings = SessionSettings(tls: tls, stallSeconds: max(1, stallSeconds, 2 * (longestTurn.max() ?? 0)),
                                   connectSeconds: max(1, stallSeconds), slowestSpeed: max(1, ([1024] + slowest).min() ?? 1024),
                                   limits: limits)
    }

    /// Runs `transfer` and returns the response. HTTP error statuses are results, not errors.
    ///
    /// - Throws: `TransferError` when no response arrived.
    public func perform(_ transfer: Transfer) throws -> TransferResult {
        let handle = try idle.withLock { $0.popLast() } ?? EasyHandle()
        defer {
            handle.reset()
            idle.withLock { if $0.count < maxHandles { $0.append(handle) } }
        }
        return try handle.perform(transfer, settings)
    }
}

/// What every transfer of a session is given.
struct SessionSettings: Sendable {
    let tls: TLSSettings
    /// Seconds a transfer may move less than `slowestSpeed` bytes a second before it is
    /// given up as stuck (longer than asked under a rate limit, by twice the longest wait
    /// for a turn), and seconds a connection may take.
    let stallSeconds: Int
    let connectSeconds: Int
    let slowestSpeed: Int
    let limits: BandwidthLimits
}

/// One libcurl easy handle. Used by one thread at a time (checked out of the pool).
final class EasyHandle: @unchecked Sendable {
    private let curl: UnsafeMutableRawPointer

    /// Why libcurl could not be loaded, or `nil` once it is (`snap_curl_load` runs once).
    private static let loadFailure: String? = {
        var reason = [CChar](repeating: 0, count: 512)
        guard snap_curl_load(&reason, reason.count) != 0 else { return nil }
        return String(decoding: reason.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()

    init() throws {
        if let reason = Self.loadFailure {
            throw TransferError(kind: .permanent, code: -1,
                                message: "cannot load libcurl, which remote repositories need (\(reason)); install Debian's libcurl4 package")
        }
        guard let c = snap_curl_easy_init() else {
            throw TransferError(kind: .permanent, code: -1, message: "libcurl could not create a handle")
        }
        curl = c
    }

    deinit { snap_curl_easy_cleanup(curl) }

    func reset() { snap_curl_easy_reset(curl) }

    private var raw: UnsafeMutableRawPointer { curl }

    func perform(_ t: Transfer, _ settings: SessionSettings) throws -> TransferResult {
        let stallSeconds = settings.stallSeconds
        let sink = ResponseSink()
        sink.limit = settings.limits.download
        sink.requestedLength = t.range?.count
        let unmanaged = Unmanaged.passRetained(sink)
        defer { unmanaged.release() }
        var headerList: UnsafeMutablePointer<curl_slist>?
        var quoteList: UnsafeMutablePointer<curl_slist>?
        var postQuoteList: UnsafeMutablePointer<curl_slist>?
        defer {
            snap_curl_slist_free_all(headerList)
            snap_curl_slist_free_all(quoteList)
            snap_curl_slist_free_all(postQuoteList)
        }

        // libcurl's own words for a failure (which SSH step failed, say), for `classify`.
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: 256)  // CURL_ERROR_SIZE
        errorBuffer.initialize(to: 0)
        defer {
            _ = snap_curl_setopt_pointer(raw, CURLOPT_ERRORBUFFER, nil)
            errorBuffer.deallocate()
        }
        try check(snap_curl_setopt_pointer(raw, CURLOPT_ERRORBUFFER, errorBuffer))

        try set(CURLOPT_URL, t.url)
        try set(CURLOPT_NOSIGNAL, 1)
        // A connection (with its TLS or SSH handshake) is a request that makes no progress
        // until it is made: no longer than a stall may last either.
        try set(CURLOPT_CONNECTTIMEOUT, min(t.connectTimeout, settings.connectSeconds))
        if t.timeout > 0 { try set(CURLOPT_TIMEOUT, t.timeout) }
        // Abort a transfer that stalls below 1 KiB/s for `stallSeconds` instead of hanging forever.
        try set(CURLOPT_LOW_SPEED_LIMIT, settings.slowestSpeed)
        try set(CURLOPT_LOW_SPEED_TIME, stallSeconds)
        try apply(settings.tls)
        if settings.limits.upload != nil {
            // libcurl's smallest upload buffer: pieces of 16 KiB keep a limited upload steady.
            try set(CURLOPT_UPLOAD_BUFFERSIZE, 16 << 10)
        }
        try check(snap_curl_setopt_callback(raw, CURLOPT_WRITEFUNCTION, snapCurlWriteBody))
        try check(snap_curl_setopt_pointer(raw, CURLOPT_WRITEDATA, unmanaged.toOpaque()))
        try check(snap_curl_setopt_callback(raw, CURLOPT_HEADERFUNCTION, snapCurlWriteHeader))
        try check(snap_curl_setopt_pointer(raw, CURLOPT_HEADERDATA, unmanaged.toOpaque()))

        for h in t.headers { headerList = snap_curl_slist_append(headerList, "\(h.name): \(h.value)") }
        // A body is sent at once; "Expect: 100-continue" would only add a round trip.
        if t.body != nil || t.bodyFile != nil { headerList = snap_curl_slist_append(headerList, "Expect:") }
        if headerList != nil { try check(snap_curl_setopt_slist(raw, CURLOPT_HTTPHEADER, headerList)) }
        for q in t.quote { quoteList = snap_curl_slist_append(quoteList, q) }
        if quoteList != nil { try check(snap_curl_setopt_slist(raw, CURLOPT_QUOTE, quoteList)) }
        for q in t.postQuote { postQuoteList = snap_curl_slist_append(postQuoteList, q) }
        if postQuoteList != nil { try check(snap_curl_setopt_slist(raw, CURLOPT_POSTQUOTE, postQuoteList)) }
        if t.listNamesOnly { try set(CURLOPT_DIRLISTONLY, 1) }
        if t.createMissingFolders { try set(CURLOPT_FTP_CREATE_MISSING_DIRS, Int(CURLFTP_CREATE_DIR_RETRY.rawValue)) }
        if let range = t.range { try set(CURLOPT_RANGE, "\(range.lowerBound)-\(range.upperBound - 1)") }
        if let ssh = t.ssh {
            try set(CURLOPT_USERNAME, ssh.user)
            // libcurl tries the key file first, then the agent.
            try set(CURLOPT_SSH_AUTH_TYPES, (ssh.privateKeyPath != nil ? Int(CURLSSH_AUTH_PUBLICKEY) : 0) | (ssh.useAgent ? Int(CURLSSH_AUTH_AGENT) : 0))
            if let key = ssh.privateKeyPath { try set(CURLOPT_SSH_PRIVATE_KEYFILE, key) }
            if let pub = ssh.publicKeyPath { try set(CURLOPT_SSH_PUBLIC_KEYFILE, pub) }
            if let passphrase = ssh.keyPassphrase { try set(CURLOPT_KEYPASSWD, passphrase) }
            if let pin = ssh.hostKeySHA256 { try set(CURLOPT_SSH_HOST_PUBLIC_KEY_SHA256, pin) }
            if let known = ssh.knownHostsPath { try set(CURLOPT_SSH_KNOWNHOSTS, known) }
        }

        let isSFTP = t.url.hasPrefix("sftp://")
        if t.headOnly {
            try set(CURLOPT_NOBODY, 1)
        } else if !isSFTP && t.method != "GET" {
            try set(CURLOPT_CUSTOMREQUEST, t.method)
        }

        var fileFailure: String?
        let code: CURLcode
        let uploadLimit = settings.limits.upload
        if let file = t.bodyFile {
            code = try withBody(file, limit: uploadLimit, failure: &fileFailure) { snap_curl_easy_perform(raw) }
        } else {
            // Under an upload limit every body goes through the read callback, which keeps to it.
            code = try withBody(t.body, isUpload: isSFTP || uploadLimit != nil, limit: uploadLimit) { snap_curl_easy_perform(raw) }
        }
        if let fileFailure {
            throw TransferError(kind: .permanent, code: Int(code.rawValue), message: "cannot read the file to upload: \(fileFailure)")
        }
        guard code == CURLE_OK else {
            throw Self.classify(code, url: t.url, stderr: String(cString: errorBuffer), authoritiesGiven: !settings.tls.authorities.isEmpty)
        }
        var status = 0
        try check(snap_curl_getinfo_long(raw, CURLINFO_RESPONSE_CODE, &status))
        var length: curl_off_t = -1
        _ = snap_curl_getinfo_offset(raw, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length)
        return TransferResult(status: status, headers: sink.headers, body: sink.body, contentLength: Int(length))
    }

    /// Points libcurl at `body` for the duration of `perform`: as POST fields for HTTP
    /// (any method), or through the read callback for SFTP uploads.
    private func withBody(_ body: [UInt8]?, isUpload: Bool, limit: BandwidthLimit?, _ perform: () -> CURLcode) throws -> CURLcode {
        guard let body else { return perform() }
        if isUpload {
            let unmanaged = Unmanaged.passRetained(UploadSource(body, limit: limit))
            defer { unmanaged.release() }
            try setUpload(count: body.count, read: snapCurlReadBody, context: unmanaged.toOpaque())
            return perform()
        }
        return try body.withUnsafeBytes { bytes in
            try check(snap_curl_setopt_offset(raw, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(bytes.count)))
            // libcurl reads the bytes in place during perform; a zero-length body still needs a valid pointer.
            var empty: UInt8 = 0
            let pointer = bytes.baseAddress ?? withUnsafeMutablePointer(to: &empty) { UnsafeRawPointer($0) }
            try check(snap_curl_setopt_pointer(raw, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: pointer)))
            return perform()
        }
    }

    /// Has libcurl read the upload from `file` through the read and seek callbacks, for
    /// any method (HTTP PUT or POST, SFTP upload); `failure` says why the file could not be read.
    private func withBody(_ file: FileBody, limit: BandwidthLimit?, failure: inout String?, _ perform: () -> CURLcode) throws -> CURLcode {
        let source = FileUploadSource(file, limit: limit)
        let unmanaged = Unmanaged.passRetained(source)
        defer { unmanaged.release() }
        try setUpload(count: file.count, read: snapCurlReadFile, context: unmanaged.toOpaque())
        try check(snap_curl_setopt_seek_callback(raw, CURLOPT_SEEKFUNCTION, snapCurlSeekFile))
        try check(snap_curl_setopt_pointer(raw, CURLOPT_SEEKDATA, unmanaged.toOpaque()))
        let code = perform()
        failure = source.failure
        return code
    }

    /// An upload of `count` bytes that libcurl pulls through `read`, given `context`.
    private func setUpload(count: Int, read: snap_curl_data_callback, context: UnsafeMutableRawPointer) throws {
        try set(CURLOPT_UPLOAD, 1)
        try check(snap_curl_setopt_offset(raw, CURLOPT_INFILESIZE_LARGE, curl_off_t(count)))
        try check(snap_curl_setopt_callback(raw, CURLOPT_READFUNCTION, read))
        try check(snap_curl_setopt_pointer(raw, CURLOPT_READDATA, context))
    }

    /// Which certificates the server's must chain to, whether it is checked at all, and
    /// the client's own certificate.
    private func apply(_ tls: TLSSettings) throws {
        if !tls.authorities.isEmpty {
            try setBlob(CURLOPT_CAINFO_BLOB, tls.authorities)
            // Only the given authorities: not also the system's folder of them.
            try check(snap_curl_setopt_pointer(raw, CURLOPT_CAPATH, nil))
        }
        if !tls.verifiesServer {
            try set(CURLOPT_SSL_VERIFYPEER, 0)
            try set(CURLOPT_SSL_VERIFYHOST, 0)
        }
        if let certificate = tls.clientCertificate {
            // One PEM text holds both, as restic's --tls-client-cert takes them. An empty
            // passphrase keeps OpenSSL from asking for one on the terminal.
            try set(CURLOPT_KEYPASSWD, "")
            try setBlob(CURLOPT_SSLCERT_BLOB, certificate)
            try set(CURLOPT_SSLCERTTYPE, "PEM")
            try setBlob(CURLOPT_SSLKEY_BLOB, certificate)
            try set(CURLOPT_SSLKEYTYPE, "PEM")
        }
    }

    /// Hands libcurl `bytes` for `option`; it copies them (CURL_BLOB_COPY) before this returns.
    private func setBlob(_ option: CURLoption, _ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { buffer in
            var blob = curl_blob(data: UnsafeMutableRawPointer(mutating: buffer.baseAddress), len: buffer.count,
                                 flags: UInt32(CURL_BLOB_COPY))
            try check(snap_curl_setopt_pointer(raw, option, &blob))
        }
    }

    private func set(_ option: CURLoption, _ value: Int) throws {
        try check(snap_curl_setopt_long(raw, option, value))
    }

    private func set(_ option: CURLoption, _ value: String) throws {
        try check(snap_curl_setopt_string(raw, option, value))
    }

    private func check(_ code: CURLcode) throws {
        guard code == CURLE_OK else { throw Self.classify(code, url: nil, stderr: "") }
    }

    /// What to do about a server certificate that failed verification, from OpenSSL's words:
    /// `--cacert` only where the chain is what failed (a private or unknown authority).
    static func certificateAdvice(_ stderr: String, authoritiesGiven: Bool) -> String {
        let detail = stderr.isEmpty ? "the server's certificate is not trusted" : stderr
        if stderr.contains("expired") || stderr.contains("not yet valid") {
            return "\(detail); the server's certificate must be renewed, or this host's clock set right"
        }
        if stderr.contains("subject name") || stderr.contains("host name") || stderr.contains("hostname") {
            return "\(detail); the certificate is for another name than the one in the repository's location"
        }
        if authoritiesGiven {
            return "\(detail); the server's certificate was not issued by the authorities given with --cacert"
        }
        return "\(detail); to trust a private authority, give its certificate with --cacert FILE"
    }

    /// OpenSSL's words for a server's TLS alert about the client's certificate.
    static let clientCertificateRefusals = ["alert certificate required", "alert bad certificate", "alert unknown ca",
                                            "alert certificate unknown"]

    /// - Parameter authoritiesGiven: whether `--cacert` (or its variable) named the
    ///   authorities, for the advice on a certificate that failed verification.
    static func classify(_ code: CURLcode, url: String?, stderr: String, authoritiesGiven: Bool = false) -> TransferError {
        let text = String(cString: snap_curl_easy_strerror(code))
        var kind: TransferError.Kind
        switch code {
        case CURLE_OPERATION_TIMEDOUT:
            kind = .timedOut
        case CURLE_COULDNT_CONNECT, CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING,
             CURLE_PARTIAL_FILE, CURLE_COULDNT_RESOLVE_HOST, CURLE_SSL_CONNECT_ERROR, CURLE_AGAIN, CURLE_HTTP2,
             CURLE_HTTP2_STREAM:
            kind = .transient
        case CURLE_REMOTE_FILE_NOT_FOUND, CURLE_FILE_COULDNT_READ_FILE:
            kind = .notFound
        default:
            kind = .permanent
        }
        var message = text
        if code == CURLE_SSH {
            if stderr.contains("Failure establishing ssh session") || stderr.contains("banner") || stderr.contains("ocket") {
                // The connection went before or during the handshake (a server restarting,
                // gone): no key problem, and worth retrying.
                message += " (the SSH connection failed: \(stderr))"
                kind = .transient
            } else if stderr.isEmpty || stderr.contains("uthentication") || stderr.contains("key") {
                message += " (SSH key authentication failed\(stderr.isEmpty ? "" : ": \(stderr)"); libssh2 1.10 signs RSA keys with "
                    + "SHA-1, which OpenSSH 8.8+ refuses: use an ed25519 or ECDSA key)"
            } else {
                message += " (\(stderr))"
            }
        }
        if code == CURLE_OPERATION_TIMEDOUT && !stderr.isEmpty {
            // libcurl's own words say which limit was reached: a stall ("Operation too slow.
            // Less than 1024 bytes/sec transferred the last 60 seconds") or the connection.
            message += " (\(stderr)" + (stderr.contains("too slow") ? "; --stuck-request-timeout sets how long a stall may last)" : ")")
        }
        let isTLS = url?.hasPrefix("https://") ?? false
        if code == CURLE_PEER_FAILED_VERIFICATION {
            message += isTLS ? " (\(Self.certificateAdvice(stderr, authoritiesGiven: authoritiesGiven)))"
                : " (the server's host key or certificate does not match what is trusted)"
        } else if code == CURLE_SSL_CERTPROBLEM {
            message += " (\(stderr.isEmpty ? "" : stderr + "; ")the file of --tls-client-cert must hold a certificate and the private key that belongs to it)"
        } else if code == CURLE_SSL_CACERT_BADFILE {
            message = "the certificate authorities given cannot be used (\(stderr.isEmpty ? text : stderr)): a certificate in the files of "
                + "--cacert (or of the variable that named them) is damaged or cut short"
        } else if isTLS, Self.clientCertificateRefusals.contains(where: stderr.contains) {
            // The server ended the handshake over snap's certificate (or the lack of one),
            // which no retry changes.
            kind = .permanent
            message += " (the server refused the connection over the client certificate: \(stderr); "
                + "give one it accepts with --tls-client-cert FILE)"
        } else if [CURLE_SSL_CONNECT_ERROR, CURLE_SEND_ERROR, CURLE_RECV_ERROR].contains(code),
                  !stderr.isEmpty {
            // libcurl's detail (which TLS step failed, a reset connection) says more than its code.
            message += " (\(stderr))"
        }
        return TransferError(kind: kind, code: Int(code.rawValue), message: message)
    }
}

/// Collects the response of one transfer.
final class ResponseSink {
    var body: [UInt8] = []
    var headers: [String: String] = [:]
    /// The body's size where the request fixes it (a ranged read), for protocols whose
    /// responses carry no `Content-Length` (SFTP).
    var requestedLength: Int?
    /// The download limit each piece of the body waits for.
    var limit: BandwidthLimit?

    /// The most `bodyStarts` reserves: the largest pack a repository may have (1 GiB), so that
    /// a header cannot make snap reserve more than any legitimate read needs.
    static let largestReservation = 1 << 30

    /// Called with the first bytes of a body: reserves the whole body at once when its size
    /// is announced (`Content-Length`, else the requested range). Appending a 16 MiB pack to
    /// a growing array would copy it through buffers of 1, 2, 4, 8 and 16 MiB and hold two of
    /// them at once at each step, which showed in the peak memory of remote restores.
    func bodyStarts(with count: Int) {
        let announced = headers["content-length"].flatMap { Int($0) } ?? requestedLength
        guard let announced, announced > count, announced <= Self.largestReservation else { return }
        body.reserveCapacity(announced)
    }
}

/// Feeds an upload read from a file to libcurl's read and seek callbacks.
final class FileUploadSource {
    let file: FileBody
    var offset = 0
    /// Why reading failed, if it did.
    var failure: String?
    /// The upload limit each piece waits for.
    let limit: BandwidthLimit?
    init(_ file: FileBody, limit: BandwidthLimit? = nil) {
        self.file = file
        self.limit = limit
    }
}

/// Feeds an upload body to libcurl's read callback.
final class UploadSource {
    let bytes: [UInt8]
    var offset = 0
    /// The upload limit each piece waits for.
    let limit: BandwidthLimit?
    init(_ bytes: [UInt8], limit: BandwidthLimit? = nil) {
        self.bytes = bytes
        self.limit = limit
    }
}
