/// Folds the failures of several replicas into the one `StorageError` a mirror throws.
enum MirrorFailure {
    /// One replica's failure.
    struct Entry {
        let replica: String
        /// The replica's error, or `nil` when the mirror skipped the replica itself.
        let error: Error?
        /// Why the replica was skipped, when `error` is `nil`.
        var skipped: String = ""

        var text: String {
            guard let error else { return "\(replica): \(skipped)" }
            return "\(replica): \(error)"
        }

        var isNotFound: Bool { (error as? StorageError)?.isNotFound ?? false }

        /// Whether trying again may help; a skipped replica stays skipped for the whole run.
        var isTransient: Bool { (error as? StorageError)?.isTransient ?? false }
    }

    /// The error for a call that no replica answered.
    ///
    /// `notFound` when every replica said so; the first `invalidRange` when every other
    /// failure was `notFound` or `invalidRange`; otherwise `transient` when every failure
    /// besides `notFound` was transient, else `permanent`. The detail names each replica
    /// and its error.
    /// - Parameter missingIsNotFound: whether "every replica said notFound" means the file
    ///   is missing (true for reads and deletes, not for writes).
    static func combine(_ entries: [Entry], operation: String, file: FileName?, location: String, summary: String,
                        missingIsNotFound: Bool = true) -> StorageError {
        if missingIsNotFound, let file, !entries.isEmpty, entries.allSatisfy(\.isNotFound) {
            return .notFound(file, location: location)
        }
        let others = entries.filter { !$0.isNotFound }
        let ranges = others.compactMap { entry -> StorageError? in
            if case let error as StorageError = entry.error, case .invalidRange = error { return error }
            return nil
        }
        if !ranges.isEmpty && ranges.count == others.count { return ranges[0] }
        let detail = summary + ": " + entries.map(\.text).joined(separator: "; ")
        if !others.isEmpty && others.allSatisfy(\.isTransient) {
            return .transient(operation: operation, file: file, location: location, detail: detail)
        }
        return .permanent(operation: operation, file: file, location: location, detail: detail)
    }
}
