#if canImport(Glibc)
import Glibc
#endif

/// How often and how patiently to retry transient failures.
public struct RetryPolicy: Sendable {
    /// Attempts in all, including the first.
    public var attempts: Int
    /// Delay before the first retry; doubles each time up to `maxDelay`.
    public var baseDelay: Double
    public var maxDelay: Double
    /// Attempts for calls that only read (read, stat, list); `nil`: `attempts`. A replica of
    /// a mirror reads with fewer, since the mirror moves on to the next replica: a dead or
    /// hung server there should cost a retry, not six timeouts, while writes keep `attempts`
    /// (a replica that misses one lags until `snap mirror sync`).
    public var readAttempts: Int?
    /// Attempts for reading calls that time out (`StorageError.timedOut`); `nil`: as other
    /// reads. A mirror's replica takes 1: a server that takes requests and never answers
    /// would cost a second stall timeout before the mirror reads another replica.
    public var timedOutReadAttempts: Int?

    public init(attempts: Int = 6, baseDelay: Double = 0.5, maxDelay: Double = 30, readAttempts: Int? = nil,
                timedOutReadAttempts: Int? = nil) {
        self.attempts = max(1, attempts); self.baseDelay = baseDelay; self.maxDelay = maxDelay
        self.readAttempts = readAttempts.map { max(1, $0) }
        self.timedOutReadAttempts = timedOutReadAttempts.map { max(1, $0) }
    }

    /// The attempts, in all, for a call that failed with `error`.
    func attempts(reading: Bool, after error: StorageError) -> Int {
        guard reading else { return attempts }
        if error.isTimeout, let timedOutReadAttempts { return timedOutReadAttempts }
        return readAttempts ?? attempts
    }

    /// The delay before retry number `retry` (1-based): exponential with full jitter,
    /// so that many clients failing together do not retry in lockstep.
    public func delay(beforeRetry retry: Int) -> Double {
        let ceiling = min(maxDelay, baseDelay * Double(1 << min(retry - 1, 20)))
        return Double.random(in: 0...ceiling)
    }
}

/// Retries calls that fail with a transient `StorageError` (timeouts, resets, 5xx),
/// never those that fail with `notFound`, `invalidRange` or a permanent error.
/// Safe for every method: files are immutable and named by content, so repeating a write
/// or a delete cannot change the outcome.
public final class RetryingBackend: Backend {
    private let base: Backend
    private let policy: RetryPolicy
    private let report: @Sendable (String) -> Void

    /// - Parameter report: told about each retry, for a warning line.
    public init(_ base: Backend, policy: RetryPolicy = RetryPolicy(), report: @escaping @Sendable (String) -> Void = { _ in }) {
        self.base = base
        self.policy = policy
        self.report = report
    }

    public var location: String { base.location }

    private func retrying<T>(_ what: String, reading: Bool = false, _ call: () throws -> T) throws -> T {
        var attempt = 1
        while true {
            do {
                return try call()
            } catch let error as StorageError where error.isTransient {
                let attempts = policy.attempts(reading: reading, after: error)
                guard attempt < attempts else { throw error }
                let wait = policy.delay(beforeRetry: attempt)
                report("\(what) failed (\(error)); retry \(attempt) of \(attempts - 1) in \((wait * 10).rounded() / 10) s")
                usleep(useconds_t(wait * 1_000_000))
                attempt += 1
            }
        }
    }

    public func write(_ file: FileName, data: [UInt8]) throws {
        try retrying("write \(file)") { try base.write(file, data: data) }
    }

    public func makeStagedFile() throws -> StagedFile { try base.makeStagedFile() }

    public func write(_ file: FileName, staged: StagedFile) throws {
        try retrying("write \(file)") { try base.write(file, staged: staged) }
    }

    public func read(_ file: FileName, range: Range<Int>?) throws -> [UInt8] {
        try retrying("read \(file)", reading: true) { try base.read(file, range: range) }
    }

    public func stat(_ file: FileName) throws -> FileInfo {
        try retrying("stat \(file)", reading: true) { try base.stat(file) }
    }

    public func list(_ kind: FileKind) throws -> [FileInfo] {
        try retrying("list \(kind.rawValue)", reading: true) { try base.list(kind) }
    }

    public var listsKindsTogether: Bool { base.listsKindsTogether }

    public func list(kinds: [FileKind]) throws -> KindListing {
        try retrying("list \(kinds.map(\.rawValue).joined(separator: ", "))", reading: true) { try base.list(kinds: kinds) }
    }

    public func delete(_ file: FileName) throws {
        try retrying("delete \(file)") { try base.delete(file) }
    }
}
