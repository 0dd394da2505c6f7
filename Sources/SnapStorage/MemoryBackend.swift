import Synchronization

/// A backend that keeps files in memory: for tests, and as the reference the conformance
/// suite is written against.
public final class MemoryBackend: Backend {
    private let files = Mutex<[FileName: [UInt8]]>([:])
    public let location: String

    public init(location: String = "memory:") { self.location = location }

    public func write(_ file: FileName, data: [UInt8]) throws {
        files.withLock { $0[file] = data }
    }

    public func read(_ file: FileName, range: Range<Int>?) throws -> [UInt8] {
        guard let data = files.withLock({ $0[file] }) else { throw StorageError.notFound(file, location: location) }
        guard let range else { return data }
        guard range.lowerBound >= 0, range.upperBound <= data.count else {
            throw StorageError.invalidRange(file, range: range, size: data.count, location: location)
        }
        return Array(data[range])
    }

    public func stat(_ file: FileName) throws -> FileInfo {
        guard let data = files.withLock({ $0[file] }) else { throw StorageError.notFound(file, location: location) }
        return FileInfo(file: file, size: data.count)
    }

    public func list(_ kind: FileKind) throws -> [FileInfo] {
        files.withLock { all in all.filter { $0.key.kind == kind }.map { FileInfo(file: $0.key, size: $0.value.count) } }
    }

    public func delete(_ file: FileName) throws {
        _ = files.withLock { $0.removeValue(forKey: file) }
    }

    /// Replaces a file's bytes without the usual checks: for tests that simulate damage.
    public func tamper(_ file: FileName, _ change: (inout [UInt8]) -> Void) {
        files.withLock { all in
            if var data = all[file] { change(&data); all[file] = data }
        }
    }
}
