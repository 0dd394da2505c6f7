#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A backend operation, for fault rules.
public enum BackendMethod: String, CaseIterable, Sendable {
    case write, read, stat, list, delete
}

/// What a fault does to a call.
public enum Fault: Sendable, Equatable {
    /// Throw a transient error without calling the wrapped backend.
    case transient
    /// Throw a permanent error without calling the wrapped backend.
    case permanent
    /// Throw a timeout (`StorageError.timedOut`) without calling the wrapped backend.
    case timedOut
    /// Call the wrapped backend after waiting this many seconds.
    case delay(Double)
    /// Writes store only the first half of the data; reads return only the first half.
    case truncate
    /// Writes store, and reads return, the data with one byte flipped.
    case corrupt
}

/// When a fault fires.
public struct FaultRule: Sendable {
    public var method: BackendMethod
    public var fault: Fault
    /// Fire on these call numbers of `method` (1-based)…
    public var calls: Set<Int>
    /// …or on each call with this probability (seeded, so runs repeat).
    public var probability: Double
    /// Only for files of this kind, when set.
    public var kind: FileKind?

    public init(_ method: BackendMethod, _ fault: Fault, calls: Set<Int> = [], probability: Double = 0, kind: FileKind? = nil) {
        self.method = method; self.fault = fault; self.calls = calls; self.probability = probability; self.kind = kind
    }
}

/// Injects faults into the calls of a wrapped backend: for tests of retry, mirroring and
/// crash safety. Counts every fault it injects so tests can check each one was exercised.
public final class FaultInjectingBackend: Backend {
    private struct State {
        var calls: [BackendMethod: Int] = [:]
        var injected: [BackendMethod: Int] = [:]
        var random: UInt64
    }

    private let base: Backend
    private let rules: [FaultRule]
    private let state: Mutex<State>

    public init(_ base: Backend, rules: [FaultRule], seed: UInt64 = 1) {
        self.base = base
        self.rules = rules
        state = Mutex(State(random: seed))
    }

    public var location: String { base.location }

    /// How many faults were injected into calls of `method`.
    public func injected(_ method: BackendMethod) -> Int { state.withLock { $0.injected[method] ?? 0 } }

    /// How many calls of `method` were made.
    public func calls(_ method: BackendMethod) -> Int { state.withLock { $0.calls[method] ?? 0 } }

    private func fault(for method: BackendMethod, kind: FileKind?) -> Fault? {
        state.withLock { s in
            let number = (s.calls[method] ?? 0) + 1
            s.calls[method] = number
            for rule in rules where rule.method == method && (rule.kind == nil || rule.kind == kind) {
                // SplitMix64 step: a small seeded generator, so a failing run can be repeated.
                s.random &+= 0x9E37_79B9_7F4A_7C15
                var z = s.random
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                let draw = Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
                if rule.calls.contains(number) || draw < rule.probability {
                    s.injected[method, default: 0] += 1
                    return rule.fault
                }
            }
            return nil
        }
    }

    private func apply(_ fault: Fault?, _ method: BackendMethod, _ file: FileName?) throws {
        switch fault {
        case .transient?:
            throw StorageError.transient(operation: method.rawValue, file: file, location: location, detail: "injected transient fault")
        case .permanent?:
            throw StorageError.permanent(operation: method.rawValue, file: file, location: location, detail: "injected permanent fault")
        case .timedOut?:
            throw StorageError.timedOut(operation: method.rawValue, file: file, location: location, detail: "injected timeout")
        case .delay(let seconds)?:
            usleep(useconds_t(seconds * 1_000_000))
        default:
            break
        }
    }

    private static func damage(_ data: [UInt8], _ fault: Fault?) -> [UInt8] {
        switch fault {
        case .truncate?: return Array(data.prefix(data.count / 2))
        case .corrupt? where !data.isEmpty:
            var d = data
            d[d.count / 2] ^= 0x40
            return d
        default: return data
        }
    }

    public func write(_ file: FileName, data: [UInt8]) throws {
        let f = fault(for: .write, kind: file.kind)
        try apply(f, .write, file)
        try base.write(file, data: Self.damage(data, f))
    }

    public func makeStagedFile() throws -> StagedFile { try base.makeStagedFile() }

    /// Counts as a `write`; a damaging fault stores damaged bytes read from `staged`.
    public func write(_ file: FileName, staged: StagedFile) throws {
        let f = fault(for: .write, kind: file.kind)
        try apply(f, .write, file)
        switch f {
        case .truncate?, .corrupt?: try base.write(file, data: Self.damage(try staged.readAll(), f))
        default: try base.write(file, staged: staged)
        }
    }

    public func read(_ file: FileName, range: Range<Int>?) throws -> [UInt8] {
        let f = fault(for: .read, kind: file.kind)
        try apply(f, .read, file)
        return Self.damage(try base.read(file, range: range), f)
    }

    public func stat(_ file: FileName) throws -> FileInfo {
        try apply(fault(for: .stat, kind: file.kind), .stat, file)
        return try base.stat(file)
    }

    public func list(_ kind: FileKind) throws -> [FileInfo] {
        try apply(fault(for: .list, kind: kind), .list, nil)
        return try base.list(kind)
    }

    public func delete(_ file: FileName) throws {
        try apply(fault(for: .delete, kind: file.kind), .delete, file)
        try base.delete(file)
    }
}
