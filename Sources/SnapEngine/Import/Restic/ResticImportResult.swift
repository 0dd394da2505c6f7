import SnapCore
import SnapRestic

/// What `snap copy --from-repo restic:…` did.
public struct ResticImportResult: Sendable, Encodable {
    /// restic snapshot → the snap snapshot made from it.
    public var imported: [(source: ResticSnapshotID, snapshot: SnapshotID)] = []
    /// Selected restic snapshots that an earlier run imported already.
    public var alreadyImported: [ResticSnapshotID] = []
    /// Files whose content was read from restic and chunked.
    public var filesRead = 0
    /// Files whose restic content list had been imported before: not read again.
    public var filesKnown = 0
    /// Folders restic stored with a tree imported before: taken whole, not walked.
    public var foldersKnown = 0
    /// Plaintext bytes read from restic's data blobs.
    public var bytesRead: UInt64 = 0
    /// Plaintext bytes of blobs new to the snap repository, and what they took in storage.
    public var bytesAdded: UInt64 = 0
    public var bytesStored: UInt64 = 0
    /// Entries the importer left out, with why.
    public var warnings: [String] = []

    enum CodingKeys: String, CodingKey {
        case imported, alreadyImported = "already_imported", filesRead = "files_read", filesKnown = "files_known"
        case foldersKnown = "folders_known"
        case bytesRead = "bytes_read", bytesAdded = "bytes_added", bytesStored = "bytes_stored", warnings
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(imported.map { ["source": $0.source.hex, "snapshot": $0.snapshot.hex] }, forKey: .imported)
        try c.encode(alreadyImported.map(\.hex), forKey: .alreadyImported)
        try c.encode(filesRead, forKey: .filesRead)
        try c.encode(filesKnown, forKey: .filesKnown)
        try c.encode(foldersKnown, forKey: .foldersKnown)
        try c.encode(bytesRead, forKey: .bytesRead)
        try c.encode(bytesAdded, forKey: .bytesAdded)
        try c.encode(bytesStored, forKey: .bytesStored)
        try c.encode(warnings, forKey: .warnings)
    }
}
