import SnapCore
import SnapRepository

/// The restic content lists a restic import has stored (each by the SHA-256 of its blob
/// IDs, `ResticImporter.contentKey`), with the snap blobs and size each became, so that a
/// file met again in a later snapshot is not read again.
///
/// A million distinct files held as a dictionary of blob arrays took 151 MiB. The blob
/// lists now wait in a temporary file (`ContentRecords`, labelled by the full key), and
/// memory holds a dictionary from the key's first eight bytes to its record's offset (16
/// bytes an entry, about 34 MB with its free slots at a million lists, by heaptrack). A record is used only when its label is the whole key, so two keys that share
/// their first eight bytes cost at most a file read again (the later list takes the slot),
/// never a wrong file. A record that cannot be read back counts as unknown, likewise.
///
/// A class, not a struct: the importer keeps it in a `lazy` property, whose mutations would
/// copy a struct's dictionary on every insertion.
///
/// Not thread-safe: the importer's thread owns it.
final class KnownContent {
    private var slots: [UInt64: Int64] = [:]
    private let records: ContentRecords

    /// - Parameters:
    ///   - directory: where the records' file is made; `$TMPDIR` (or `/tmp`) when `nil`.
    ///   - warn: told once if the records must stay in memory, and of any record that
    ///     cannot be read back.
    init(directory: String? = nil, warn: @escaping (String) -> Void = { _ in }) {
        records = ContentRecords(directory: directory) { failure in
            switch failure {
            case .cannotWrite(let error): warn("restic import: \(error); the list of files imported so far is kept in memory")
            case .cannotRead(let error): warn("restic import: \(error); a file imported before is read again")
            }
        }
    }

    /// The number of lists remembered.
    var count: Int { slots.count }
    /// Bytes of records held in memory (those not yet written, or all if no file could be).
    var bufferedBytes: Int { records.bufferedBytes }

    /// Whether `key` may have been stored: `false` is sure, `true` is confirmed only by
    /// `content(for:)`.
    func mayContain(_ key: RawID) -> Bool { slots[key.w0] != nil }

    /// The snap blobs and size the content list `key` was stored as; `nil` if it was not
    /// (or its record cannot be read back).
    func content(for key: RawID) -> LinkedContent? {
        guard let offset = slots[key.w0], let record = records.read(at: offset),
              record.label == key.bytes else { return nil }
        return record.content
    }

    /// Remembers that the content list `key` was stored as `content`.
    func insert(_ key: RawID, _ content: LinkedContent) {
        slots[key.w0] = records.append(label: key.bytes, content: content)
    }
}
