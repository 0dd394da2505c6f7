/// Failures of backup, restore and snapshot selection that are not storage or format errors.
public enum EngineError: Error, CustomStringConvertible {
    /// A path given to backup does not exist or cannot be examined.
    case sourceUnavailable(path: String, reason: String)
    case snapshotNotFound(String)
    /// A tree blob could not be decoded.
    case treeDamaged(id: String, reason: String)
    /// The restore target cannot be created or written.
    case targetUnavailable(path: String, reason: String)
    /// The repository changed in a way that makes this command's result unsafe to save.
    case repositoryChanged(String)
    /// Every path given to backup was excluded, vanished or could not be read: the snapshot
    /// would hold none of them (restic: "snapshot is empty").
    case nothingToBackUp
    /// A retention policy would remove every snapshot of the group named (`forget`).
    case wouldRemoveWholeGroup(String)
    /// The command was asked to stop (an interruption) before it saved its snapshot.
    case stopped

    public var description: String {
        switch self {
        case let .sourceUnavailable(path, reason): return "\(path): \(reason)"
        case let .snapshotNotFound(text): return text
        case let .treeDamaged(id, reason): return "tree \(id) is damaged: \(reason)"
        case let .targetUnavailable(path, reason): return "cannot restore into \(path): \(reason)"
        case let .repositoryChanged(text): return text
        case let .wouldRemoveWholeGroup(group):
            return "refusing to delete last snapshot of snapshot group \"\(group)\": the policy keeps none of them; add a --keep-* rule that keeps one, or name the snapshots to remove by ID"
        case .stopped:
            return "stopped before the snapshot was saved"
        case .nothingToBackUp:
            return "nothing to back up: every path given was excluded or could not be read, so no snapshot was saved"
        }
    }
}
