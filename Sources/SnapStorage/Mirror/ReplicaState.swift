/// What a mirror has seen of one replica during this process (for messages, for
/// `snap mirror status` after a command, and for tests). Nothing of it is stored.
public struct ReplicaState: Sendable, Codable, Equatable {
    /// The replica's name (its location without credentials).
    public let name: String
    /// A write or delete failed on the replica, or a listing showed it lacks files other
    /// replicas have: it gets no more config, key, index or snapshot files in this process,
    /// and keeps its packs, index files, key files and config when they are deleted, so that
    /// it never holds a file naming a pack it lacks and is never left without the index
    /// files or keys its snapshots need.
    /// `snap mirror sync` brings it up to date.
    public var lagging = false
    /// The failure that made the replica lag.
    public var lagReason: String?
    /// Several writes in a row failed: the replica gets no more writes at all in this process.
    public var down = false
    /// Writes and deletes that failed.
    public var failedWrites = 0
    /// Writes and deletes the mirror did not send because the replica was lagging or down.
    public var skippedWrites = 0
    /// Reads, stats and lists that failed with an error other than "not found".
    public var failedReads = 0
    /// Reads that returned bytes which did not match the file's name or failed validation.
    public var badCopies = 0
    /// Damaged or missing copies that read-repair replaced with verified ones.
    public var repairedCopies = 0
    /// The last error the replica returned, if any.
    public var lastError: String?

    public init(name: String) { self.name = name }
}
