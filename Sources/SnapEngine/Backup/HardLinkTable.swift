import SnapCore

/// The first name of every multiply-linked file met so far in a backup, by (device,
/// inode), with its content once known, until its last name is met.
///
/// A tree whose files also have names outside the backup keeps an entry per file to the
/// end, so entries are compact: paths and blob IDs live in two shared arenas, and a first
/// name still being read holds its `Pending` only until `settle` finds it read. Space of
/// entries that are gone is reclaimed once it outweighs the live entries.
///
/// Not thread-safe: the archiver's walking thread owns it.
struct HardLinkTable {
    private struct Entry {
        var pathStart: Int
        var pathCount: Int32
        /// `contentCount` when the content is known; `pendingContent` while the first
        /// name is being read; `unreadable` when it could not be read.
        var contentCount: Int32
        var contentStart: Int
        var size: UInt64
        /// Names not met yet.
        var unseen: UInt64
    }

    private static let pendingContent: Int32 = -1
    private static let unreadable: Int32 = -2

    private var entries: [HardLinkKey: Entry] = [:]
    private var paths: [UInt8] = []
    private var ids: [BlobID] = []
    private var deadPathBytes = 0
    private var deadIDs = 0
    /// The content of first names being read.
    private var pending: [HardLinkKey: Pending<LinkedContent?>] = [:]
    /// Their keys in the order they were queued: readers finish roughly in that order, so
    /// `settle` looks at the front only.
    private var reading: [HardLinkKey] = []
    private var readingStart = 0

    /// The number of files whose further names are still expected.
    var count: Int { entries.count }
    /// Bytes of the path arena, forgotten entries' included until compaction.
    var pathArenaBytes: Int { paths.count }

    /// Records the first name of a file with `links` names, whose content is known.
    mutating func addFirst(_ key: HardLinkKey, path: [UInt8], links: UInt64, content: LinkedContent) {
        guard links > 1 else { return }
        var entry = newEntry(path: path, links: links)
        entry.contentStart = ids.count
        entry.contentCount = Int32(content.content.count)
        entry.size = content.size
        ids.append(contentsOf: content.content)
        entries[key] = entry
    }

    /// Records the first name of a file with `links` names, whose content `pending` is being read.
    mutating func addFirst(_ key: HardLinkKey, path: [UInt8], links: UInt64, pending: Pending<LinkedContent?>) {
        guard links > 1 else { return }
        var entry = newEntry(path: path, links: links)
        entry.contentCount = Self.pendingContent
        entries[key] = entry
        self.pending[key] = pending
        reading.append(key)
    }

    /// For a further name: the first name's snapshot path and its content; `nil` when no
    /// name of the file was met before. Counts the name as met, and forgets the file after its last.
    mutating func furtherName(_ key: HardLinkKey) -> (firstPath: [UInt8], content: LinkSource)? {
        guard let entry = entries[key] else { return nil }
        let path = Array(paths[entry.pathStart..<(entry.pathStart + Int(entry.pathCount))])
        let content: LinkSource
        switch entry.contentCount {
        case Self.pendingContent:
            guard let pending = pending[key] else { return nil }
            content = .pending(pending)
        case Self.unreadable:
            content = .unreadable
        default:
            let blobs = Array(ids[entry.contentStart..<(entry.contentStart + Int(entry.contentCount))])
            content = .known(LinkedContent(content: blobs, size: entry.size))
        }
        if entry.unseen > 1 {
            entries[key]?.unseen -= 1
        } else {
            entries[key] = nil
            pending[key] = nil
            deadPathBytes += Int(entry.pathCount)
            deadIDs += max(0, Int(entry.contentCount))
            compactIfWorthwhile()
        }
        return (path, content)
    }

    /// Moves the content of first names that have been read into the arenas, dropping
    /// their `Pending`s; stops at the first one still being read.
    mutating func settle() {
        while readingStart < reading.count {
            let key = reading[readingStart]
            if let content = pending[key] {
                guard let outcome = content.outcome else { break }
                // A failed read keeps its `Pending`: the further name rethrows its error.
                if case .success(let read) = outcome {
                    if let read {
                        entries[key]?.contentStart = ids.count
                        entries[key]?.contentCount = Int32(read.content.count)
                        entries[key]?.size = read.size
                        ids.append(contentsOf: read.content)
                    } else {
                        entries[key]?.contentCount = Self.unreadable
                    }
                    pending[key] = nil
                }
            }
            readingStart += 1
        }
        // Drop the settled front once it is most of the queue.
        if readingStart > 1024 && readingStart * 2 > reading.count {
            reading.removeFirst(readingStart)
            readingStart = 0
        }
    }

    private mutating func newEntry(path: [UInt8], links: UInt64) -> Entry {
        let entry = Entry(pathStart: paths.count, pathCount: Int32(path.count), contentCount: 0, contentStart: 0,
                          size: 0, unseen: links - 1)
        paths.append(contentsOf: path)
        return entry
    }

    /// Rebuilds the arenas without the space of forgotten entries once it exceeds both
    /// the live space and 1 MiB, so that the cost stays proportional to what was added.
    private mutating func compactIfWorthwhile() {
        let pathWaste = deadPathBytes > 1 << 20 && deadPathBytes * 2 > paths.count
        let idWaste = deadIDs > (1 << 20) / MemoryLayout<BlobID>.stride && deadIDs * 2 > ids.count
        guard pathWaste || idWaste else { return }
        var newPaths: [UInt8] = []
        var newIDs: [BlobID] = []
        newPaths.reserveCapacity(paths.count - deadPathBytes)
        newIDs.reserveCapacity(ids.count - deadIDs)
        for key in Array(entries.keys) {
            guard var entry = entries[key] else { continue }
            let start = newPaths.count
            newPaths.append(contentsOf: paths[entry.pathStart..<(entry.pathStart + Int(entry.pathCount))])
            entry.pathStart = start
            if entry.contentCount > 0 {
                let first = newIDs.count
                newIDs.append(contentsOf: ids[entry.contentStart..<(entry.contentStart + Int(entry.contentCount))])
                entry.contentStart = first
            }
            entries[key] = entry
        }
        paths = newPaths
        ids = newIDs
        deadPathBytes = 0
        deadIDs = 0
    }
}
