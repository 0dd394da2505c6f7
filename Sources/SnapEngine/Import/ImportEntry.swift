import SnapCore
import SnapRepository

/// One entry of a snapshot being imported from another tool (a tar stream, a restic
/// snapshot): where it goes, its metadata, and for a regular file its content.
///
/// Entries may come in any order: a folder's entry may come after its children's, or not
/// at all (then it is implied, as `tar` creates missing folders).
public struct ImportEntry {
    /// The path below the snapshot's root as raw name components (`["home", "a", "x"]`),
    /// none empty, `.` or `..`, or holding `/` or NUL; names need not be UTF-8.
    public var path: [[UInt8]]
    /// The metadata: type, mode, owners, times, size, symlink target, device number,
    /// xattrs. Its `name` is ignored (the last component of `path` is used) and so are
    /// `content` and `subtree`, which the importer fills in.
    ///
    /// A further name of a hard-linked file has type `.hardlink` and, as `linkTarget`,
    /// the path of an earlier entry below the root (`home/a/x`, slashes between the
    /// components, a leading slash allowed); it takes that file's content and metadata
    /// (they belong to the file, not to a name: the rest of `node` is ignored). The importer
    /// decides which name is stored as the file (the first in snapshot order, FORMAT.md
    /// "Hard links"), whatever order the names came in.
    public var node: Node
    /// The access time, when the source has one. snap's trees do not store access times
    /// (FORMAT.md, "Trees"): kept here so that a source need not know that.
    public var atime: Timestamp?
    /// A regular file's content; `nil` for anything else (and an empty file).
    public var content: ImportContent?
    /// For a folder: its whole tree, already stored in this repository by an earlier
    /// import of the same source folder (restic names identical folders with one tree ID),
    /// so that its entries need not be added one by one; the tree blob must be in the
    /// repository's index. It must hold no hard link whose other names lie outside it.
    /// `nil`: the folder's entries are added (or implied) as usual.
    public var knownTree: BlobID?

    public init(path: [[UInt8]], node: Node, atime: Timestamp? = nil, content: ImportContent? = nil,
                knownTree: BlobID? = nil) {
        self.path = path; self.node = node; self.atime = atime; self.content = content; self.knownTree = knownTree
    }
}

/// Where a regular file's content comes from.
public enum ImportContent {
    /// Bytes to chunk with the repository's keyed chunker and store: `fill` copies the next
    /// bytes into the buffer it is given and returns how many, at least one while bytes
    /// remain and 0 at the end. It is called on the importer's thread, one buffer at a
    /// time, so a source can hand out a stream without holding it (a tar member, a restic
    /// file's blobs). What it throws abandons the import.
    case stream(_ fill: (UnsafeMutableRawBufferPointer) throws -> Int)
    /// Content already stored in this repository (blobs in file order, `size` bytes in
    /// all), as an earlier `add` returned it: nothing is read. Every blob must be in the
    /// repository's index, or stored by this importer (an earlier file of the same
    /// snapshot, whose blobs may still be on their way into a pack).
    case known(blobs: [BlobID], size: UInt64)
}

/// The labels of an imported snapshot: those of the original, not of this run.
public struct ImportedSnapshot: Sendable {
    /// When the original was taken.
    public var time: Timestamp
    public var hostname: String
    public var username: String
    /// The absolute paths the original backed up (for a tar stream: `/`).
    public var paths: [String]
    public var tags: [String]
    /// The original, when the source names it (restic's snapshot ID): a later import can
    /// skip what it has already imported.
    public var origin: SnapshotOrigin?

    public init(time: Timestamp, hostname: String, username: String, paths: [String], tags: [String] = [],
                origin: SnapshotOrigin? = nil) {
        self.time = time; self.hostname = hostname; self.username = username; self.paths = paths
        self.tags = tags; self.origin = origin
    }
}
