import SnapStorage

extension Repository {
    /// The folders that hold a repository's backups, in the order they are asked about:
    /// snapshots first (the fewest files, so the cheapest listing), packs last (the most).
    /// `keys/` is not among them: an `init` interrupted after its key file leaves one key
    /// file and nothing else, and must be able to run again (FORMAT.md, "Write order and crash safety").
    static let backupKinds: [FileKind] = [.snapshots, .index, .data]

    /// The first of `snapshots/`, `index/` and `data/` that holds a file at `backend`, or
    /// `nil` when none does.
    ///
    /// Why: without `config` a location cannot be opened, but one that holds these is a
    /// repository that lost its config, not an empty place for `init`. Asked only where
    /// `config` is missing (`init`, or an open that already failed), so a command that opens
    /// a repository pays no request for it. One listing per folder, on any backend, stopping
    /// at the first folder that holds a file.
    ///
    /// - Throws: storage errors as the backend throws them.
    static func folderHoldingBackups(at backend: Backend) throws -> FileKind? {
        for kind in backupKinds where try !backend.list(kind).isEmpty { return kind }
        return nil
    }
}

extension RepositoryError {
    /// What a location without `config` is: `configMissing` when it holds a repository's
    /// backups (`Repository.folderHoldingBackups`), so that the message does not advise
    /// `init`; otherwise `notARepository`.
    ///
    /// - Parameters:
    ///   - backend: the location, known to lack `config`.
    ///   - keys: the key files already listed there, or `nil` to list them when needed.
    /// - Throws: storage errors from the listings.
    static func withoutConfig(at backend: Backend, keys: [FileInfo]?) throws -> RepositoryError {
        guard let found = try Repository.folderHoldingBackups(at: backend) else {
            return .notARepository(location: backend.location)
        }
        let keysMissing = try (keys ?? backend.list(.keys)).isEmpty
        return .configMissing(location: backend.location, found: found, keysMissing: keysMissing)
    }
}
