import SnapCore

/// Which packs `check --read-data-subset` downloads.
///
/// - `n/t` (slice n of t): pack P is in slice n when the first four bytes of its ID, read as
///   a big-endian `UInt32`, are ≡ n − 1 (mod t). Pack IDs are SHA-256 digests, so slices are
///   about equal, and `1/t … t/t` together cover every pack exactly once; a pack stays in
///   the same slice for its whole life.
/// - `N%`: ⌈N/100 × number of packs⌉ packs chosen at random, anew on each run, so that
///   repeated runs eventually cover every pack (use `n/t` for a planned rotation).
public enum PackSubset: Sendable, Equatable, CustomStringConvertible {
    case all
    case slice(Int, of: Int)
    case percent(Double)

    /// Parses `n/t` (1 ≤ n ≤ t) or `N%` (0 < N ≤ 100, decimals allowed).
    ///
    /// - Throws: `PackSubset.ParseError` naming what is wrong.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingSpaces
        if trimmed.hasSuffix("%") {
            guard let value = Double(trimmed.dropLast()), value.isFinite, value > 0, value <= 100 else {
                throw ParseError(text: text, reason: "a percentage must be greater than 0 and at most 100")
            }
            self = value == 100 ? .all : .percent(value)
            return
        }
        let parts = trimmed.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let n = Int(parts[0]), let t = Int(parts[1]) else {
            throw ParseError(text: text, reason: "expected n/t (e.g. 2/7) or N% (e.g. 10%)")
        }
        guard t >= 1, t <= Int(UInt32.max), n >= 1, n <= t else {
            throw ParseError(text: text, reason: "in n/t, t must be at least 1 and n between 1 and t")
        }
        self = t == 1 ? .all : .slice(n, of: t)
    }

    /// A subset that cannot be parsed.
    public struct ParseError: Error, CustomStringConvertible {
        public let text: String
        public let reason: String
        public var description: String { "invalid subset '\(text)': \(reason)" }
    }

    /// The slice rule: the first four bytes of the pack ID as a big-endian integer, modulo `t`.
    public static func sliceNumber(of pack: PackID, slices t: Int) -> Int {
        Int(UInt32(truncatingIfNeeded: pack.raw.w0 >> 32) % UInt32(t)) + 1
    }

    /// The packs of `packs` in this subset, in ID order. `random` is used only by `percent`.
    public func select<G: RandomNumberGenerator>(from packs: [PackID], using random: inout G) -> [PackID] {
        let sorted = packs.sorted()
        switch self {
        case .all:
            return sorted
        case let .slice(n, t):
            return sorted.filter { Self.sliceNumber(of: $0, slices: t) == n }
        case let .percent(share):
            let wanted = min(sorted.count, Int((Double(sorted.count) * share / 100).rounded(.up)))
            return Array(sorted.shuffled(using: &random).prefix(wanted)).sorted()
        }
    }

    public var description: String {
        switch self {
        case .all: return "all packs"
        case let .slice(n, t): return "slice \(n)/\(t)"
        case let .percent(share): return "\(share.formatted)% of the packs, chosen at random"
        }
    }
}

/// SplitMix64, seeded from `CheckOptions.randomSeed` (tests) or at random (each run), so
/// that an `N%` choice can be repeated when wanted.
struct PackSubsetRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}

extension Double {
    /// Without a trailing `.0` for whole numbers.
    fileprivate var formatted: String { self == rounded() ? String(Int(self)) : String(self) }
}
