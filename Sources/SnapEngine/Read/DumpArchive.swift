import SnapCore

/// The archive formats `snap dump` writes a folder as.
public enum ArchiveFormat: String, CaseIterable, Sendable {
    /// pax tar (`TarWriter`), with GNU sparse members for files with holes.
    case tar
    /// zip, streamed (`ZipWriter`).
    case zip
}

/// One entry of a folder dump, in walk order.
struct DumpEntry {
    /// The name `snap restore` gives it under its target: the snapshot path without the leading `/`.
    let name: [UInt8]
    let node: Node
    /// For a hard link whose first name the archive already holds: that name.
    let firstName: [UInt8]?
    /// A file's (or hard link's) content.
    let content: DumpContent
}

/// An archive format that `SnapshotDump` writes a folder into: it is handed the entries in
/// walk order and decides how each is stored. The walk, the names and the hard-link
/// bookkeeping stay in `SnapshotDump`.
protocol DumpArchive {
    /// Writes one entry.
    /// - Returns: whether the archive holds it; `false` for a type the format has no place
    ///   for (the dump reports it as skipped).
    func add(_ entry: DumpEntry) throws -> Bool
    /// Ends the archive.
    func finish() throws
}

/// The pax tar format: every node type but sockets, hard links as links to their first
/// name, and files with repeated all-zero blobs as GNU sparse members.
struct TarDumpArchive: DumpArchive {
    let tar: TarWriter

    func add(_ entry: DumpEntry) throws -> Bool {
        let node = entry.node
        let type: TarWriter.EntryType
        var link: [UInt8] = []
        switch node.type {
        case .file: type = .file
        case .directory: type = .directory
        case .symlink: type = .symlink; link = node.linkTarget
        case .hardlink:
            if let first = entry.firstName { type = .hardLink; link = first } else { type = .file }
        case .fifo: type = .fifo
        case .characterDevice: type = .characterDevice
        case .blockDevice: type = .blockDevice
        case .socket: return false  // tar has no sockets
        }
        var e = TarWriter.Entry(path: type == .directory ? entry.name + [PathBytes.slash] : entry.name, type: type, mode: node.mode,
                                uid: node.uid, gid: node.gid, user: node.user, group: node.group,
                                size: type == .file ? node.size : 0,
                                mtimeSeconds: node.mtime.seconds, mtimeNanoseconds: node.mtime.nanoseconds)
        e.linkTarget = link
        e.xattrs = node.xattrs.map { ($0.name, $0.value) }
        if type == .characterDevice || type == .blockDevice {
            // glibc's encoding of dev_t (gnu_dev_major, gnu_dev_minor).
            e.deviceMajor = UInt32(truncatingIfNeeded: ((node.rdev >> 8) & 0xfff) | ((node.rdev >> 32) & ~UInt64(0xfff)))
            e.deviceMinor = UInt32(truncatingIfNeeded: (node.rdev & 0xff) | ((node.rdev >> 12) & ~UInt64(0xff)))
        }
        guard type == .file else { try tar.begin(e); return true }
        if let layout = try entry.content.sparseLayout() {
            let regions = layout.dataRegions
            try tar.beginSparse(e, regions: regions)
            try entry.content.forEachData(layout) { try tar.output($0) }
            try tar.finishContent(size: regions.reduce(0) { $0 + UInt64($1.count) })
        } else {
            try tar.begin(e)
            try entry.content.forEachBlob { try tar.output($0) }
            try tar.finishContent(size: node.size)
        }
        return true
    }

    func finish() throws { try tar.finish() }
}

/// The zip format: files (hard links with their content, as zip has no links), folders and
/// symbolic links; fifos, devices and sockets have no place in zip.
struct ZipDumpArchive: DumpArchive {
    let zip: ZipWriter

    func add(_ entry: DumpEntry) throws -> Bool {
        let node = entry.node
        var e = ZipWriter.Entry(name: entry.name, type: .file, mode: node.mode, mtimeSeconds: node.mtime.seconds)
        switch node.type {
        case .file, .hardlink:
            try zip.beginFile(e, size: node.size)
            try entry.content.forEachBlob { try zip.write($0) }
            try zip.finishFile()
        case .directory:
            e.type = .directory
            try zip.add(e)
        case .symlink:
            e.type = .symlink
            try zip.add(e, content: node.linkTarget)
        case .fifo, .characterDevice, .blockDevice, .socket:
            return false
        }
        return true
    }

    func finish() throws { try zip.finish() }
}
