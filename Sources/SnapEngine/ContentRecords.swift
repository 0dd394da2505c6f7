import SnapCore
import SnapRepository
import SnapStorage

/// Files' content (blob IDs and size), each with a label of its owner's choosing, appended
/// to an unnamed temporary file (a `StagedFile`: nothing is left behind) so that the
/// records wait in the page cache, not in the process's memory; the owner keeps only
/// where each record is. Records are written 64 KiB at a time.
///
/// Used for the first names of multiply-linked files in a backup (`HardLinkTable`, labelled
/// by path) and for the content lists a restic import has stored (`KnownContent`, labelled
/// by the list's digest).
///
/// Each record is its length (4 bytes), the content's size (8 bytes), its blob count
/// (4 bytes; −1 for content that could not be read), the blob IDs and the label. If the
/// file cannot be made or written, records stay in memory from then on, after one warning.
///
/// Not thread-safe: one thread owns it.
final class ContentRecords {
    /// What went wrong with the temporary file, for the owner's warning.
    enum Failure {
        /// It could not be made or written: records stay in memory from now on.
        case cannotWrite(any Error)
        /// A record could not be read back: the owner does without it.
        case cannotRead(any Error)
    }

    private let directory: String?
    private let warn: (Failure) -> Void
    private var file: StagedFile?
    /// Set once the file failed: every later record stays in `buffer`.
    private var inMemory = false
    /// Records after the file's end.
    private var buffer: [UInt8] = []
    private static let flushBytes = 64 << 10
    private static let unreadable: Int32 = -1
    /// Bytes read at once for a record in the file: most records fit, longer ones take a
    /// second read.
    private static let firstRead = 512

    /// - Parameters:
    ///   - directory: where the file is made; `$TMPDIR` (or `/tmp`) when `nil`.
    ///   - warn: told when the file cannot be written (once) or a record cannot be read.
    init(directory: String?, warn: @escaping (Failure) -> Void) {
        self.directory = directory
        self.warn = warn
    }

    /// Bytes of records held in memory.
    var bufferedBytes: Int { buffer.count }

    private var fileSize: Int { file?.size ?? 0 }

    /// Appends a record and returns where it is. `content` is `nil` for content that could
    /// not be read.
    func append(label: [UInt8], content: LinkedContent?) -> Int64 {
        let offset = fileSize + buffer.count
        let length = 16 + RawID.byteCount * (content?.content.count ?? 0) + label.count
        var writer = ByteWriter(capacity: length)
        // Clamped, not trapping: a record past 4 GiB (over 100 million blob IDs) then reads
        // back as unreadable, and its owner does without it.
        writer.u32(UInt32(clamping: length))
        writer.u64(content?.size ?? 0)
        writer.u32(UInt32(bitPattern: content.map { Int32(clamping: $0.content.count) } ?? Self.unreadable))
        for id in content?.content ?? [] { writer.id(id.raw) }
        writer.raw(label)
        buffer.append(contentsOf: writer.bytes)
        if buffer.count >= Self.flushBytes && !inMemory { flush() }
        return Int64(offset)
    }

    /// The record at `offset`; `nil`, after a warning, if it cannot be read back.
    func read(at offset: Int64) -> (label: [UInt8], content: LinkedContent?)? {
        let start = Int(offset)
        var bytes: [UInt8]
        if start >= fileSize {
            let from = start - fileSize
            guard from + 4 <= buffer.count, let length = Self.length(Array(buffer[from..<(from + 4)])),
                  from + length <= buffer.count else { return nil }
            bytes = Array(buffer[from..<(from + length)])
        } else {
            do {
                guard let file else { return nil }
                bytes = try file.read(start..<min(start + Self.firstRead, fileSize))
                if let length = Self.length(bytes), length > bytes.count, start + length <= fileSize {
                    bytes = try file.read(start..<(start + length))
                }
            } catch {
                warn(.cannotRead(error))
                return nil
            }
        }
        // The bytes are ours, written above: a record that does not parse cannot happen,
        // but is treated as one that cannot be read back rather than trusted.
        guard let length = Self.length(bytes), length >= 16, length <= bytes.count else { return nil }
        if bytes.count > length { bytes.removeLast(bytes.count - length) }
        var reader = ByteReader(bytes, offset: 4)
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
        guard let label = try? reader.raw(reader.remaining) else { return nil }
        return (label, content)
    }

    /// A record's length, from its first four bytes.
    private static func length(_ bytes: [UInt8]) -> Int? {
        var reader = ByteReader(bytes)
        return (try? reader.u32()).map(Int.init)
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
            warn(.cannotWrite(error))
        }
    }
}
