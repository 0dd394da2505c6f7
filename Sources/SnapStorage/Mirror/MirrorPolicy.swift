/// How many replicas of a mirror must take a write (or a delete) for it to succeed.
public enum MirrorPolicy: String, CaseIterable, Sendable, Codable {
    /// Every replica. A replica that is down stops every command that writes.
    case all
    /// A strict majority: 2 of 3, 3 of 4 or 5, and so 2 of 2. The default: with three
    /// replicas one may be down while every write still lands in at least two places.
    case quorum
    /// At least one replica. Commands succeed while any replica is up; a write may then
    /// exist in a single place until `snap mirror sync` copies it.
    case any

    /// The number of replicas out of `count` that must succeed.
    public func required(of count: Int) -> Int {
        switch self {
        case .all: return count
        case .quorum: return count / 2 + 1
        case .any: return min(1, count)
        }
    }

    /// Whether `successes` replicas out of `count` meet the policy.
    public func isMet(successes: Int, of count: Int) -> Bool { successes >= required(of: count) }
}
