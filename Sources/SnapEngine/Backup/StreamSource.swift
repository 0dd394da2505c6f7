#if canImport(Glibc)
import Glibc
#endif
import SnapCore
import SnapRepository

/// Content that arrives as a stream (standard input, or a command's output) and is backed
/// up as one file, as `restic backup --stdin` does.
public struct StreamSource: Sendable {
    /// The file's path in the snapshot, without the leading `/` (`stdin`, `db/dump.sql`).
    public let path: [UInt8]
    /// Where the content is read from, to its end; not closed by the backup.
    public let fd: Int32
    /// Called once the stream has ended, before anything refers to its content: throws to
    /// abandon the backup (the command that wrote the stream failed), so no snapshot is saved.
    public let finished: @Sendable () throws -> Void

    public init(path: [UInt8], fd: Int32, finished: @escaping @Sendable () throws -> Void = {}) {
        self.path = path
        self.fd = fd
        self.finished = finished
    }

    /// The path's components; `nil` when it has none or one of them is `.` or `..`.
    var components: [[UInt8]]? {
        let parts = PathBytes.components(path)
        guard !parts.isEmpty, !parts.contains([46]), !parts.contains([46, 46]) else { return nil }
        return parts
    }
}

/// Backs up a `StreamSource` through the same chunker, hasher and upload queue as files:
/// one chunk buffer at a time, whatever the stream's size. An empty stream is an error. The file is owned by the backing-up
/// user, mode 0644 (folders on its path 0755), and timed when the stream ended.
struct StreamArchiver {
    let context: BackupContext
    let trees: TreeSaver
    let owners: UserDatabase

    func archive(_ stream: StreamSource) throws -> BlobID {
        guard let components = stream.components, let name = components.last else {
            throw EngineError.sourceUnavailable(path: PathBytes.display(stream.path), reason: "not a usable file name for a stream (empty, or with . or .. in it)")
        }
        let repository = context.repository
        let reader = ChunkReader(chunker: repository.chunker)
        let ids = BlobIDHasher(keys: repository.keys)
        var content: [BlobID] = []
        var added: UInt64 = 0
        context.progress.setCurrent(stream.path)
        let size: UInt64
        do {
            size = try reader.read(stream.fd) { chunk in
                let id = ids.id(of: chunk)
                content.append(id)
                if try context.store(.data, id: id, plaintext: chunk, inline: false) { added += UInt64(chunk.count) }
                context.progress.bytesRead(UInt64(chunk.count))
            }
        } catch let failure as FileSystem.Failure {
            throw EngineError.sourceUnavailable(path: PathBytes.display(stream.path), reason: "cannot read the stream: \(failure)")
        }
        try stream.finished()
        // As restic: an empty stream is most often a producer that died before writing
        // (`pg_dump … | snap backup --stdin`); saved, it would be the group's latest snapshot.
        guard size > 0 else {
            throw EngineError.sourceUnavailable(path: PathBytes.display(stream.path), reason: "the stream gave no data, so no snapshot was saved")
        }
        let now = WallClock.now
        let (uid, gid) = (getuid(), getgid())
        func node(_ name: [UInt8], type: NodeType, mode: UInt32) -> Node {
            Node(name: name, type: type, mode: mode, uid: uid, gid: gid, user: owners.userName(uid), group: owners.groupName(gid),
                 mtime: now, ctime: now)
        }
        var file = node(name, type: .file, mode: 0o644)
        file.size = size
        file.content = content
        context.record.count {
            $0.filesNew += 1
            $0.bytesRead += size
            $0.bytesProcessed += size
        }
        context.progress.fileDone(bytes: 0)
        context.progress.item([PathBytes.slash] + stream.path, action: .new, size: size, added: added)
        var tree = trees.submit([.ready(file)])
        for folder in components.dropLast().reversed() {
            context.record.count { $0.directories += 1 }
            tree = trees.submit([.directory(node(folder, type: .directory, mode: 0o755), tree: tree, path: nil, previous: nil)])
        }
        context.record.count { $0.directories += 1 }
        return try tree.wait()
    }
}
