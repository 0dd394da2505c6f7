import Synchronization

/// The kinds of request a backend serves, as `CountingBackend` counts them.
public enum RequestKind: String, CaseIterable, Sendable, Codable {
    case list, read, write, delete, stat
}

/// Requests made to one backend and the bytes they moved, per kind of request.
public struct RequestCounts: Sendable, Equatable {
    /// Requests of each kind, failed ones included.
    public var requests: [RequestKind: Int] = [:]
    /// Bytes read by `read` requests and written by `write` requests; for `list`, the
    /// number of files listed.
    public var bytes: [RequestKind: UInt64] = [:]

    public init() {}

    /// Requests of `kind`.
    public subscript(kind: RequestKind) -> Int { requests[kind] ?? 0 }

    /// Every request, of any kind.
    public var total: Int { requests.values.reduce(0, +) }

    mutating func add(_ kind: RequestKind, bytes n: Int) {
        requests[kind, default: 0] += 1
        bytes[kind, default: 0] += UInt64(max(0, n))
    }
}

/// Counts the requests made to the wrapped backend, and the bytes they moved, per kind.
///
/// The composition layer puts one directly around each provider (below retries, so a
/// retried request counts each time it is sent), and registers it in a `RequestLog` that the
/// command reads when it ends. A failed request counts as a request of its kind, with no
/// bytes. A staged write counts its file's size. Thread-safe; counting costs one lock per call.
public final class CountingBackend: Backend {
    private let base: Backend
    private let state = Mutex(RequestCounts())

    public init(_ base: Backend) { self.base = base }

    public var location: String { base.location }

    /// The requests counted so far.
    public var counts: RequestCounts { state.withLock { $0 } }

    private func count<T>(_ kind: RequestKind, _ call: () throws -> T, bytes: (T) -> Int) rethrows -> T {
        do {
            let result = try call()
            let n = bytes(result)
            state.withLock { $0.add(kind, bytes: n) }
            return result
        } catch {
            state.withLock { $0.add(kind, bytes: 0) }
            throw error
        }
    }

    public func write(_ file: FileName, data: [UInt8]) throws {
        try count(.write, { try base.write(file, data: data) }, bytes: { _ in data.count })
    }

    public func read(_ file: FileName, range: Range<Int>?) throws -> [UInt8] {
        try count(.read, { try base.read(file, range: range) }, bytes: \.count)
    }

    public func read(_ file: FileName, range: Range<Int>?, isValid: ([UInt8]) -> Bool) throws -> [UInt8] {
        try count(.read, { try base.read(file, range: range, isValid: isValid) }, bytes: \.count)
    }

    public func stat(_ file: FileName) throws -> FileInfo {
        try count(.stat, { try base.stat(file) }, bytes: { _ in 0 })
    }

    public func list(_ kind: FileKind) throws -> [FileInfo] {
        try count(.list, { try base.list(kind) }, bytes: \.count)
    }

    public var listsKindsTogether: Bool { base.listsKindsTogether }

    /// One listing when the provider lists the kinds together, one per kind otherwise.
    public func list(kinds: [FileKind]) throws -> KindListing {
        let listing: KindListing
        do {
            listing = try base.list(kinds: kinds)
        } catch {
            state.withLock { $0.add(.list, bytes: 0) }
            throw error
        }
        state.withLock { counts in
            if listing.inRequestedOrder {
                for kind in Set(kinds) { counts.add(.list, bytes: listing[kind].count) }
            } else {
                counts.add(.list, bytes: listing.files.values.reduce(0) { $0 + $1.count })
            }
        }
        return listing
    }

    public func delete(_ file: FileName) throws {
        try count(.delete, { try base.delete(file) }, bytes: { _ in 0 })
    }

    public func readMetadata(_ file: FileName, isValid: ([UInt8]) -> Bool) throws -> [UInt8] {
        try count(.read, { try base.readMetadata(file, isValid: isValid) }, bytes: \.count)
    }

    public func readMetadata(_ file: FileName, range: Range<Int>, isValid: ([UInt8]) -> Bool,
                             rangeIsValid: ([UInt8]) -> Bool) throws -> [UInt8] {
        try count(.read, { try base.readMetadata(file, range: range, isValid: isValid, rangeIsValid: rangeIsValid) }, bytes: \.count)
    }

    public func writeMetadata(_ file: FileName, data: [UInt8]) throws {
        try count(.write, { try base.writeMetadata(file, data: data) }, bytes: { _ in data.count })
    }

    public func makeStagedFile() throws -> StagedFile { try base.makeStagedFile() }

    public func write(_ file: FileName, staged: StagedFile) throws {
        try count(.write, { try base.write(file, staged: staged) }, bytes: { _ in staged.size })
    }

    public func writeMetadata(_ file: FileName, staged: StagedFile) throws {
        try count(.write, { try base.writeMetadata(file, staged: staged) }, bytes: { _ in staged.size })
    }
}

/// The `CountingBackend`s of one command, in the order they were made, so that the
/// command can report its requests per backend when it ends. Thread-safe.
public final class RequestLog: Sendable {
    private let backends = Mutex<[CountingBackend]>([])

    public init() {}

    /// Wraps `backend` in a `CountingBackend` registered here.
    public func counting(_ backend: Backend) -> CountingBackend {
        let counting = CountingBackend(backend)
        backends.withLock { $0.append(counting) }
        return counting
    }

    /// Each backend's location and counts, merged per location (a location opened twice
    /// counts once), in the order the locations were first opened.
    public var entries: [(location: String, counts: RequestCounts)] {
        var order: [String] = []
        var merged: [String: RequestCounts] = [:]
        for backend in backends.withLock({ $0 }) {
            let location = backend.location
            if merged[location] == nil { order.append(location) }
            var total = merged[location] ?? RequestCounts()
            let counts = backend.counts
            for kind in RequestKind.allCases {
                total.requests[kind, default: 0] += counts[kind]
                total.bytes[kind, default: 0] += counts.bytes[kind] ?? 0
            }
            merged[location] = total
        }
        return order.map { ($0, merged[$0] ?? RequestCounts()) }
    }
}
