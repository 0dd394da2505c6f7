import SnapEngine
import SnapRepository
import SnapStorage

extension GlobalOptions {
    /// One of the snapshots named to a command that takes several (`snapshots`, `forget`,
    /// `tag`, `stats`, `rewrite`, `copy`, `find`); `nil`, with a warning, when the name
    /// matches none (an unknown ID, or `latest` where the filters leave nothing), as restic
    /// passes over it ("Ignoring …") and goes on with the others.
    func namedSnapshot(_ reference: String, filter: SnapshotFilter = SnapshotFilter(), in repository: Repository,
                       listed: [FileInfo]) throws -> SnapshotRecord? {
        do {
            return try SnapshotStore.find(reference, filter: filter, in: repository, listed: listed, skipped: snapshotSkipped)
        } catch EngineError.snapshotNotFound(let reason) {
            Output.error("warning: ignoring '\(reference)': \(reason)")
            return nil
        }
    }
}
