/// One libcurl transfer: an HTTP(S) request or an SFTP operation.
///
/// Only the fields a caller sets are applied; everything else keeps libcurl's defaults.
public struct Transfer: Sendable {
    public var url: String
    /// HTTP method (`GET`, `PUT`, `POST`, `DELETE`, `HEAD`); ignored for SFTP.
    public var method = "GET"
    /// Request headers in order; names are sent as given.
    public var headers: [(name: String, value: String)] = []
    /// Bytes to send (an HTTP body, or the content of an SFTP upload).
    public var body: [UInt8]?
    /// Bytes to send read from an open file instead of `body`, so that a large upload
    /// (a pack) is never held in memory.
    public var bodyFile: FileBody?
    /// Byte range to fetch, inclusive start and exclusive end.
    public var range: Range<Int>?
    /// Fetch no body (HTTP HEAD, or SFTP stat).
    public var headOnly = false
    /// SFTP commands run before / after the transfer (`rm PATH`, `rename A B`, `mkdir P`).
    public var quote: [String] = []
    public var postQuote: [String] = []
    /// For SFTP listings: names only.
    public var listNamesOnly = false
    /// For SFTP uploads: create missing folders.
    public var createMissingFolders = false
    /// SSH credentials and host-key pinning for SFTP.
    public var ssh: SSHOptions?
    /// Seconds allowed for connecting (at most the session's stall time), and for the whole
    /// transfer (0: no limit).
    public var connectTimeout = 30
    public var timeout = 0

    public init(url: String) { self.url = url }
}

/// An upload read from an open file: its first `count` bytes, read with `pread` (so the
/// descriptor's offset is left alone, and a rewound upload reads them again).
public struct FileBody: Sendable {
    public let descriptor: Int32
    public let count: Int

    public init(descriptor: Int32, count: Int) {
        self.descriptor = descriptor
        self.count = count
    }
}

/// How an SFTP transfer authenticates, and which host key it accepts.
public struct SSHOptions: Sendable, Equatable {
    public var user: String
    /// A key file to sign with; `nil` when only the agent is used.
    public var privateKeyPath: String?
    public var publicKeyPath: String?
    /// The passphrase of `privateKeyPath`, when it has one.
    public var keyPassphrase: String?
    /// Whether to ask the SSH agent (`SSH_AUTH_SOCK`) too, after the key file.
    public var useAgent: Bool
    /// base64 SHA-256 of the server's host key (pinning), or…
    public var hostKeySHA256: String?
    /// …a known_hosts file to check the host key against. One of the two is required.
    public var knownHostsPath: String?

    public init(user: String, privateKeyPath: String?, publicKeyPath: String? = nil, keyPassphrase: String? = nil,
                useAgent: Bool = false, hostKeySHA256: String? = nil, knownHostsPath: String? = nil) {
        self.user = user; self.privateKeyPath = privateKeyPath; self.publicKeyPath = publicKeyPath
        self.keyPassphrase = keyPassphrase; self.useAgent = useAgent
        self.hostKeySHA256 = hostKeySHA256; self.knownHostsPath = knownHostsPath
    }
}

/// What came back.
public struct TransferResult: Sendable {
    /// HTTP status, or 0 for protocols without one.
    public var status: Int
    /// Response headers with lower-cased names.
    public var headers: [String: String]
    public var body: [UInt8]
    /// Content length as the server reported it (SFTP stat), or -1.
    public var contentLength: Int
}

/// A transfer that failed before a response, classified for retry decisions.
public struct TransferError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable {
        /// Connection refused or reset, or a partial transfer: may pass.
        case transient
        /// No connection within the connect timeout, or a transfer that stalled (below
        /// 1 KiB/s) for the session's stall time: the server may be hung. May pass.
        case timedOut
        /// Authentication, host-key or TLS verification failure, bad URL: will not pass.
        case permanent
        /// The remote file does not exist (SFTP).
        case notFound
    }
    public let kind: Kind
    /// libcurl's result code and its explanation.
    public let code: Int
    public let message: String

    public var description: String { message }
}
