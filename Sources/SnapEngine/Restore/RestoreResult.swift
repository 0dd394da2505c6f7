import SnapCore

/// The outcome of a restore.
///
/// Failures on the target's side (`errors`, `unwritten`, `stopped`) are kept apart from
/// damage in the repository (`unreadableFolders`, `damagedBlobs`), so that messages never
/// blame one for the other.
public struct RestoreResult: Sendable {
    /// Files restored: written completely, or with damaged ranges named in `damagedBlobs`.
    /// Counts those that replaced an existing entry too (also in `updated`).
    public var files = 0
    /// Folders created, or existing folders merged into.
    public var directories = 0
    public var otherEntries = 0
    /// Of the entries counted in `files` and `otherEntries`, those that replaced an existing entry.
    public var updated = 0
    /// Existing entries that already had the snapshot's content: only their metadata was set.
    public var unchanged = 0
    /// Existing entries left alone because of `RestoreOptions.overwrite`.
    public var skipped = 0
    /// Entries removed by `RestoreOptions.delete` (a folder counts once, with what it held).
    public var deleted = 0
    /// Files read back by `RestoreOptions.verify`.
    public var verified = 0
    /// Files that differ from the snapshot when read back (each message names its path).
    public var verifyFailures: [String] = []
    /// The bytes of the files counted in `files`.
    public var bytes: UInt64 = 0
    /// Entries that could not be created, written or given their metadata in the target
    /// (each message names its path); the rest was restored.
    public var errors: [String] = []
    /// Folders whose contents could not be read from the repository (each message names its path).
    public var unreadableFolders: [String] = []
    /// Blobs that were missing, unreadable or failed authentication in the repository, with
    /// the snapshot paths of the files they belong to.
    public var damagedBlobs: [(blob: BlobID, reason: String, files: [String])] = []
    /// Packs that could not be read for a storage error (no permission, a server that keeps
    /// failing) rather than damage: their blobs are in `damagedBlobs`, and a restore once
    /// they can be read fills the files in.
    public var unreadablePacks: [PackID] = []
    /// Snapshot paths of files that could not be written completely to the target. None is
    /// left behind: each was removed (or never created), so no file in the target has its
    /// final size and times without its content.
    public var unwritten: [String] = []
    /// `--include` and `--exclude` patterns that matched no entry the restore looked at.
    public var unmatchedIncludes: [UnmatchedPattern] = []
    public var unmatchedExcludes: [UnmatchedPattern] = []
    /// Set when the restore stopped early because the target cannot take more (no space,
    /// quota, read-only, I/O errors); what was not reached is not restored.
    public var stopped: RestoreStop?

    public var succeeded: Bool {
        errors.isEmpty && unreadableFolders.isEmpty && damagedBlobs.isEmpty && unwritten.isEmpty && stopped == nil
            && verifyFailures.isEmpty
    }

    /// How many files have damaged, missing or unreadable data in the repository.
    public var damagedFiles: Int { Set(damagedBlobs.flatMap(\.files)).count }
}
