import SnapCore
import SnapRepository
import SnapStorage

/// The first names of multiply-linked files and their content, appended to an unnamed
/// temporary file (a `StagedFile`: nothing is left behind) so that their bytes wait in
/// the page cache, not in the backup's memory. Records are written 64 KiB at a time.
///
/// Each record is the content's size (8 bytes), its blob count (4 bytes; −1 for a first
/// name that could not be read), the blob IDs and the path. If the file cannot be made or
/// written, records stay in memory from then on, after one warning.
///
/// Not thread-safe: the archiver's walking thread owns it.
final class LinkRecords {
    private let directory: String?
    private let warn: (String) -> Void
    private var file: StagedFile?
    /// Set once the file failed: every later record stays in `buffer`.
    private var inMemory = false
    /// Records after the file's end.
    private var buffer: [UInt8] = []
    private static let flushBytes = 64 << 10
    private static let unreadable: Int32 = -1

    init(directory: String?, warn: @escaping (String) -> Void) {
        self.directory = directory
        self.warn = warn
    }

    /// Bytes of records held in memory.
    var bufferedBytes: Int { buffer.count }

    private var fileSize: Int { file?.size ?? 0 }

    /// Appends a record; returns where it is and its length. `content` is `nil` for a first
    /// name that could not be read.
    func append(path: [UInt8], content: LinkedContent?) -> (offset: Int64, length: UInt32) {
        let offset = fileSize + buffer.count
        var writer = ByteWriter(capacity: 12 + path.count + 32 * (content?.content.count ?? 0))
        writer.u64(content?.size ?? 0)
        writer.u32(UInt32(bitPattern: content.map { Int32($0.content.count) } ?? Self.unreadable))
        for id in content?.content ?? [] { writer.id(id.raw) }
        writer.raw(path)
        buffer.append(contentsOf: writer.bytes)
        if buffer.count >= Self.flushBytes && !inMemory { flush() }
        return (Int64(offset), UInt32(writer.bytes.count))
    }

    /// The record at `offset`; `nil`, after a warning, if it cannot be read back.
    func read(at offset: Int64, length: Int) -> (path: [UInt8], content: LinkedContent?)? {
        let start = Int(offset)
        let bytes: [UInt8]
        if start >= fileSize {
            let from = start - fileSize
            bytes = Array(buffer[from..<(from + length)])
        } else {
            do {
                guard let file else { return nil }
                bytes = try file.read(start..<(start + length))
            } catch {
                warn("hard links: \(error); a further name of a multiply-linked file is stored as a file of its own")
                return nil
            }
        }
        // The bytes are ours, written above: a record that does not parse cannot happen,
        // but is treated as one that cannot be read back rather than trusted.
        var reader = ByteReader(bytes)
        guard let size = try? reader.u64(), let count = try? Int32(bitPattern: reader.u32()) else { return nil }
        var content: LinkedContent?
        if count != Self.unreadable {
            var ids: [BlobID] = []
            ids.reserveCapacity(max(0, Int(count)))
            for _ in 0..<max(0, Int(count)) {
                guard let id = try? reader.id() else { return nil }
                ids.append(BlobID(raw: id))
            }
            content = LinkedContent(content: ids, size: size)
        }
        guard let path = try? reader.raw(reader.remaining) else { return nil }
        return (path, content)
    }

    private func flush() {
        do {
            if file == nil {
                file = try directory.map { try StagedFile.create(in: $0) } ?? StagedFile.temporary()
            }
            try file?.append(buffer)
            buffer.removeAll(keepingCapacity: true)
        } catch {
            // Records already in the file stay readable; `buffer` holds the rest.
            inMemory = true
            warn("hard links: \(error); the table of multiply-linked files is kept in memory")
        }
    }
}
