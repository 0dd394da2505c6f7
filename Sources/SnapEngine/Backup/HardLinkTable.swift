import SnapCore
import SnapRepository

/// The first name of every multiply-linked file met so far in a backup, by (device,
/// inode), with its content once known, until its last name is met.
///
/// A tree whose files also have names outside the backup keeps an entry per file to the
/// end, and a tree of hard-linked copies (rsnapshot's, say) keeps one per file of the
/// first copy, so memory holds only 32 bytes per entry in the table: the first name's
/// path and content are written to `ContentRecords`, an unnamed temporary file, and read
/// back when a further name is met. A first name still being read holds its path and
/// `Pending` in memory until `settle` finds it read.
///
/// Not thread-safe: the archiver's walking thread owns it.
struct HardLinkTable {
    private struct Slot {
        /// Where the first name's record is, or `Self.beingRead`.
        var record: Int64
        /// Names not met yet; a file with more than 2³² names is never forgotten.
        var unseen: UInt32
    }

    private static let beingRead: Int64 = -1

    private var slots: [HardLinkKey: Slot] = [:]
    private let records: ContentRecords
    /// First names being read: their path, and the `Pending` their content comes through.
    private var reading: [HardLinkKey: (path: [UInt8], content: Pending<LinkedContent?>)] = [:]
    /// Their keys in the order they were queued: readers finish roughly in that order, so
    /// `settle` looks at the front only.
    private var readingOrder: [HardLinkKey] = []
    private var readingStart = 0

    /// - Parameters:
    ///   - directory: where the records' file is made; `$TMPDIR` (or `/tmp`) when `nil`.
    ///   - warn: told once if the records must stay in memory instead.
    init(directory: String? = nil, warn: @escaping (String) -> Void = { _ in }) {
        records = ContentRecords(directory: directory) { failure in
            switch failure {
            case .cannotWrite(let error): warn("hard links: \(error); the table of multiply-linked files is kept in memory")
            case .cannotRead(let error): warn("hard links: \(error); a further name of a multiply-linked file is stored as a file of its own")
            }
        }
    }

    /// The number of files whose further names are still expected.
    var count: Int { slots.count }
    /// Bytes of records held in memory (those not yet written, or all if no file could be).
    var bufferedBytes: Int { records.bufferedBytes }

    /// Records the first name of a file with `links` names, whose content is known.
    mutating func addFirst(_ key: HardLinkKey, path: [UInt8], links: UInt64, content: LinkedContent) {
        guard links > 1 else { return }
        slots[key] = Slot(record: records.append(label: path, content: content), unseen: Self.unseen(links))
    }

    /// Records the first name of a file with `links` names, whose content `pending` is being read.
    mutating func addFirst(_ key: HardLinkKey, path: [UInt8], links: UInt64, pending: Pending<LinkedContent?>) {
        guard links > 1 else { return }
        slots[key] = Slot(record: Self.beingRead, unseen: Self.unseen(links))
        reading[key] = (path, pending)
        readingOrder.append(key)
    }

    /// For a further name: the first name's snapshot path and its content; `nil` when no
    /// name of the file was met before (or its record cannot be read back, after a
    /// warning: the name is then stored as a file of its own). Counts the name as met, and
    /// forgets the file after its last.
    mutating func furtherName(_ key: HardLinkKey) -> (firstPath: [UInt8], content: LinkSource)? {
        guard let slot = slots[key] else { return nil }
        if slot.unseen > 1 {
            slots[key]?.unseen -= 1
        } else {
            slots[key] = nil
        }
        if slot.record == Self.beingRead {
            guard let first = reading[key] else { return nil }
            if slot.unseen <= 1 { reading[key] = nil }
            return (first.path, .pending(first.content))
        }
        guard let record = records.read(at: slot.record) else { return nil }
        return (record.label, record.content.map { .known($0) } ?? .unreadable)
    }

    /// Writes the records of first names that have been read, dropping their `Pending`s;
    /// stops at the first one still being read.
    mutating func settle() {
        while readingStart < readingOrder.count {
            let key = readingOrder[readingStart]
            if let first = reading[key] {
                guard let outcome = first.content.outcome else { break }
                // A failed read keeps its `Pending`: the further name rethrows its error.
                if case .success(let read) = outcome {
                    slots[key]?.record = records.append(label: first.path, content: read)
                    reading[key] = nil
                }
            }
            readingStart += 1
        }
        // Drop the settled front once it is most of the queue.
        if readingStart > 1024 && readingStart * 2 > readingOrder.count {
            readingOrder.removeFirst(readingStart)
            readingStart = 0
        }
    }

    private static func unseen(_ links: UInt64) -> UInt32 { UInt32(clamping: links - 1) }
}
