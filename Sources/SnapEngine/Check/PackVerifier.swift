import SnapCore
import SnapCrypto
import SnapRepository
import SnapStorage

/// Downloads one pack and verifies it against its name, its header and its index entry.
///
/// Thread-safe: each call holds a piece of one pack in memory (the whole pack only when
/// it is damaged) and makes its own blob decoder.
struct PackVerifier: Sendable {
    let repository: Repository

    /// What the index says of one pack: its salt and size, and a digest of its entries,
    /// which are read again from `indexFile` only when a report needs them.
    struct Expected: Sendable {
        /// The pack as indexed, its entries set aside (empty).
        var pack: IndexedPack
        var entryDigest: [UInt8]
        var indexFile: IndexID
    }

    /// What verifying one pack found.
    struct Verdict: Sendable {
        var pack: PackID
        /// Problems with the pack as a whole.
        var findings: [CheckReport.Finding] = []
        /// Blobs of the index entry that cannot be read back intact, with the reason.
        var damaged: [(entry: PackEntry, reason: String)] = []
        /// Bytes downloaded.
        var bytes = 0
    }

    /// Verifies `expected.pack.id`: SHA-256 of the content against the name, the header, every blob
    /// (authentication, decompression, blob ID), and that the header lists exactly the entries
    /// and salt the index gives. When anything is damaged, every blob the index names in the
    /// pack is decoded on its own so the verdict names exactly the blobs that are damaged.
    ///
    /// A storage failure that is not damage (the backend cannot be reached, permission
    /// denied; retries are done by the backend stack) gives a `packUnreadable` finding and
    /// marks no blob damaged: nothing is known about them.
    ///
    /// - Parameter size: the pack's size as listed by the backend.
    func verify(_ expected: Expected, size: Int) -> Verdict {
        var indexed = expected.pack
        let file = FileName(.data, indexed.id.hex)
        var verdict = Verdict(pack: indexed.id)
        // The index's entries for this pack, read again from its index file (empty if that fails).
        let indexEntries = { [repository, id = indexed.id] () -> [PackEntry] in
            (try? repository.loadIndexFile(expected.indexFile))?.packs.first { $0.id == id }?.entries ?? []
        }
        do {
            let header = try repository.verifyPack(indexed.id, size: size)
            verdict.bytes = size
            if Self.digest(of: header.entries) != expected.entryDigest,
               let mismatch = Self.compare(header: header.entries, index: indexEntries()) {
                verdict.findings.append(.init(severity: .error, kind: .packHeaderMismatch, file: file.description,
                                              message: "the pack's header and the index disagree: \(mismatch)"))
            }
            // The header authenticated under the trailer's salt, so that is the pack's real salt.
            if header.salt != indexed.salt {
                verdict.findings.append(.init(severity: .error, kind: .packHeaderMismatch, file: file.description,
                                              message: "the index gives the pack a different salt, so none of its blobs can be read through the index"))
                verdict.damaged = indexEntries().map { ($0, "the index holds the wrong salt for pack \(indexed.id.short)") }
            }
            return verdict
        } catch StorageError.notFound {
            indexed.entries = indexEntries()
            return missing(indexed, verdict)
        } catch where Self.isDamage(error) {
            indexed.entries = indexEntries()
            return diagnose(indexed, firstProblem: error, verdict: verdict)
        } catch {
            verdict.findings.append(.init(severity: .error, kind: .packUnreadable, file: file.description, message: "cannot be read: \(error)"))
            return verdict
        }
    }

    private func missing(_ indexed: IndexedPack, _ verdict: Verdict) -> Verdict {
        var verdict = verdict
        verdict.findings.append(.init(severity: .error, kind: .packMissing, file: FileName(.data, indexed.id.hex).description,
                                      message: "the pack vanished while it was being checked"))
        verdict.damaged = indexed.entries.map { ($0, "pack \(indexed.id.short) is missing") }
        return verdict
    }

    /// Reads the pack again and decodes each indexed blob on its own (`indexed` with its entries).
    private func diagnose(_ indexed: IndexedPack, firstProblem: Error, verdict: Verdict) -> Verdict {
        let file = FileName(.data, indexed.id.hex)
        var verdict = verdict
        let bytes: [UInt8]
        do {
            bytes = try repository.backend.read(file)
        } catch StorageError.notFound {
            return missing(indexed, verdict)
        } catch {
            verdict.findings.append(.init(severity: .error, kind: .packUnreadable, file: file.description,
                                          message: "\(Self.reason(firstProblem)); then it could not be read again: \(error)"))
            return verdict
        }
        verdict.bytes = bytes.count
        var problems = [Self.reason(firstProblem)]
        do {
            let header = try PackFormat.readHeader(of: indexed.id, size: bytes.count, from: repository.backend, keys: repository.keys)
            if let mismatch = Self.compare(header: header.entries, index: indexed.entries) {
                problems.append("its header and the index disagree: \(mismatch)")
            }
        } catch {
            problems.append("header: \(Self.reason(error))")
        }
        let headerAgrees = problems.count == 1
        var blobsExamined = false
        do {
            let decoder = try BlobDecoder(keys: repository.keys)
            PackReader.decodeEach(indexed.entries, of: indexed.id, salt: indexed.salt, in: bytes, decoder: decoder,
                                  rereading: repository.backend, damaged: { e, failure in
                switch failure {
                case let .pastEnd(end, size):
                    verdict.damaged.append((e, "pack \(indexed.id.short) is truncated: the blob ends at byte \(end), the pack has \(size)"))
                case let .undecodable(error):
                    verdict.damaged.append((e, Self.reason(error)))
                }
            }) { _, _ in }
            problems.append("\(verdict.damaged.count) of \(indexed.entries.count) blobs damaged")
            blobsExamined = true
        } catch {
            problems.append("its blobs could not be examined: \(error)")
        }
        let everyBlobIntact = headerAgrees && blobsExamined && verdict.damaged.isEmpty
        if everyBlobIntact && SHA256.hash(bytes) == indexed.id.raw.bytes {
            // Read again whole, the pack is intact: a mirror served another replica's copy (and
            // replaced the damaged one), or the first read was spoilt on its way.
            verdict.findings.append(.init(severity: .info, kind: .packDamaged, file: file.description,
                                          message: "\(problems[0]) when first read; read again, it is intact (on a mirror: another replica's copy, which replaced the damaged one)"))
            return verdict
        }
        if everyBlobIntact {
            problems.append("every blob read intact on its own, from another replica of a mirror: 'snap repair packs \(indexed.id.short)' rewrites them into a new pack")
        }
        verdict.findings.append(.init(severity: .error, kind: .packDamaged, file: file.description, message: problems.joined(separator: "; ")))
        return verdict
    }

    /// SHA-256 of `entries` in a fixed order: equal for two lists of the same entries.
    static func digest(of entries: [PackEntry]) -> [UInt8] {
        var w = ByteWriter(capacity: entries.count * 45)
        for e in entries.sorted(by: { ($0.offset, $0.id) < ($1.offset, $1.id) }) { e.encode(into: &w) }
        return SHA256.hash(w.bytes)
    }

    /// A description of how two entry lists differ, or `nil` when they hold the same entries.
    static func compare(header: [PackEntry], index: [PackEntry]) -> String? {
        struct Key: Hashable { let type: UInt8, id: BlobID, offset: UInt32, length: UInt32, rawLength: UInt32 }
        func keys(_ entries: [PackEntry]) -> [Key] {
            entries.map { Key(type: $0.type.rawValue, id: $0.id, offset: $0.offset, length: $0.length, rawLength: $0.rawLength) }
        }
        let h = keys(header), i = keys(index)
        let hs = Set(h), iset = Set(i)
        if hs == iset && h.count == i.count { return nil }
        return "\(header.count) entries in the header, \(index.count) in the index; "
            + "\(hs.subtracting(iset).count) only in the header, \(iset.subtracting(hs).count) only in the index"
    }

    /// Whether an error means the thing read is damaged or absent, as opposed to storage
    /// that could not be reached (after the backend's retries), which says nothing about it.
    static func isDamage(_ error: Error) -> Bool {
        switch error {
        case RepositoryError.damaged, RepositoryError.blobDamaged, RepositoryError.blobNotFound: return true
        case StorageError.notFound, StorageError.invalidRange: return true
        case is DecodingFailure: return true
        case EngineError.treeDamaged: return true
        default: return false
        }
    }

    /// The reason part of a repository error, without the file name it repeats.
    static func reason(_ error: Error) -> String {
        switch error {
        case let RepositoryError.damaged(_, reason): return reason
        case let RepositoryError.blobDamaged(_, _, reason): return reason
        default: return "\(error)"
        }
    }
}
