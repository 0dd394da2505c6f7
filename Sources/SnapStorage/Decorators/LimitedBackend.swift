import Dispatch

/// Lets at most `connections` calls run against the wrapped backend at once
/// (`--connections N`); further callers wait their turn.
public final class LimitedBackend: Backend {
    private let base: Backend
    private let slots: DispatchSemaphore
    public let connections: Int

    public init(_ base: Backend, connections: Int) {
        self.base = base
        self.connections = max(1, connections)
        slots = DispatchSemaphore(value: self.connections)
    }

    public var location: String { base.location }

    private func limited<T>(_ call: () throws -> T) rethrows -> T {
        slots.wait()
        defer { slots.signal() }
        return try call()
    }

    public func write(_ file: FileName, data: [UInt8]) throws { try limited { try base.write(file, data: data) } }
    public func read(_ file: FileName, range: Range<Int>?) throws -> [UInt8] { try limited { try base.read(file, range: range) } }
    public func stat(_ file: FileName) throws -> FileInfo { try limited { try base.stat(file) } }
    public func list(_ kind: FileKind) throws -> [FileInfo] { try limited { try base.list(kind) } }
    public func list(kinds: [FileKind]) throws -> KindListing { try limited { try base.list(kinds: kinds) } }
    public var listsKindsTogether: Bool { base.listsKindsTogether }
    public func delete(_ file: FileName) throws { try limited { try base.delete(file) } }
    public func makeStagedFile() throws -> StagedFile { try base.makeStagedFile() }
    public func write(_ file: FileName, staged: StagedFile) throws { try limited { try base.write(file, staged: staged) } }
}
