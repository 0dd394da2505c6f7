import Foundation
import SnapCore
import SnapStorage

/// Where a blob is stored: its pack and the sealed bytes' range there, and for a
/// compressed blob the length of its plaintext.
public struct ResticBlobLocation: Sendable, Equatable {
    public let type: ResticBlobType
    public let pack: ResticPackID
    public let offset: Int
    /// The sealed length (`IV || ciphertext || MAC`).
    public let length: Int
    /// The plaintext length of a zstd-compressed blob; `nil` for a blob stored uncompressed.
    public let uncompressedLength: Int?

    /// The plaintext length.
    public var plaintextLength: Int { uncompressedLength ?? (length - ResticCipherKey.overhead) }
}

/// One index file's JSON (restic `doc/design.rst`, "Indexing"). The oldest restic wrote
/// the list of packs alone, without the `supersedes` object around it; both are read.
struct ResticIndexFile: Decodable {
    struct Pack: Decodable {
        let id: ResticPackID
        let blobs: [Blob]
    }

    struct Blob: Decodable {
        let id: ResticBlobID
        let type: ResticBlobType
        let offset: Int
        let length: Int
        let uncompressedLength: Int?

        enum CodingKeys: String, CodingKey {
            case id, type, offset, length, uncompressedLength = "uncompressed_length"
        }
    }

    let supersedes: [String]
    let packs: [Pack]

    enum CodingKeys: String, CodingKey { case supersedes, packs }

    init(from decoder: Decoder) throws {
        if let packs = try? decoder.singleValueContainer().decode([Pack].self) {
            self.supersedes = []
            self.packs = packs
            return
        }
        let container = try decoder.container(keyedBy: CodingKeys.self)
        supersedes = try container.decodeIfPresent([String].self, forKey: .supersedes) ?? []
        packs = try container.decodeIfPresent([Pack].self, forKey: .packs) ?? []
    }

    /// Checks what JSON cannot: ranges that fit, lengths that hold at least the seal, an
    /// uncompressed length that fits the pack header's 32 bits (restic cannot write more).
    func validate(file: String) throws {
        for pack in packs {
            for blob in pack.blobs {
                let (end, overflow) = blob.offset.addingReportingOverflow(blob.length)
                guard blob.offset >= 0, blob.length >= ResticCipherKey.overhead, !overflow, end <= Int(UInt32.max) * 64,
                      (0...Int(UInt32.max)).contains(blob.uncompressedLength ?? 0) else {
                    throw ResticError.damaged(file: file, reason: "blob \(blob.id.short) in pack \(pack.id.short) has an impossible range")
                }
            }
        }
    }
}

/// Every blob of the repository and where it is, merged from the index files that no other
/// index file supersedes; where several list a blob, the first file in name order wins.
///
/// Held as one array of 72-byte records sorted by blob ID, searched by bisection: a
/// dictionary of `ResticBlobLocation`s took about 220 bytes a blob (218 MiB of the 724 a
/// million-file import peaked at). Each index file's JSON is turned into records as it is
/// read and then dropped.
public struct ResticIndex: Sendable {
    private struct Record {
        var id: RawID
        var offset: UInt64
        var length: UInt64
        /// `uncompressedNone` for a blob stored uncompressed.
        var uncompressedLength: UInt64
        var pack: UInt32
        /// The record's place in file order, while the index is built (first listed wins).
        var sequence: UInt32
        var type: ResticBlobType
    }

    private static let uncompressedNone = UInt64.max

    private var records: [Record] = []
    private var packs: [ResticPackID] = []
    /// Per pack, where its last indexed blob ends: reads up to there stay inside the pack.
    private var dataEnds: [ResticPackID: Int] = [:]
    /// Index files read, and those skipped because another one supersedes them.
    public private(set) var filesRead = 0
    public private(set) var filesSuperseded = 0

    /// The number of distinct blobs.
    public var count: Int { records.count }

    /// Where `id` is, if any index file lists it.
    public func location(of id: ResticBlobID) -> ResticBlobLocation? {
        var low = 0, high = records.count
        while low < high {
            let mid = (low + high) / 2
            if records[mid].id < id.raw { low = mid + 1 } else { high = mid }
        }
        guard low < records.count, records[low].id == id.raw else { return nil }
        let r = records[low]
        return ResticBlobLocation(type: r.type, pack: packs[Int(r.pack)], offset: Int(r.offset), length: Int(r.length),
                                  uncompressedLength: r.uncompressedLength == Self.uncompressedNone ? nil : Int(r.uncompressedLength))
    }

    /// Where the last blob that the index lists in `pack` ends (the header follows).
    public func dataEnd(of pack: ResticPackID) -> Int? { dataEnds[pack] }

    /// Reads every index file of `backend`.
    static func load(from backend: Backend, key: ResticCipherKey) throws -> ResticIndex {
        let files: [FileInfo]
        do { files = try backend.list(.index) } catch { throw ResticError.storage(file: "index/", detail: "\(error)") }
        var result = ResticIndex()
        var packNumbers: [ResticPackID: UInt32] = [:]
        var ranges: [(name: String, records: Range<Int>)] = []
        var superseded: Set<String> = []
        for info in files.sorted(by: { $0.file.name < $1.file.name }) {
            let json = try UnpackedFile.read(info.file, from: backend, key: key)
            let index = try UnpackedFile.decodeJSON(ResticIndexFile.self, json, file: info.file.description)
            try index.validate(file: info.file.description)
            superseded.formUnion(index.supersedes)
            let start = result.records.count
            for pack in index.packs {
                let number = packNumbers[pack.id] ?? {
                    result.packs.append(pack.id)
                    return UInt32(result.packs.count - 1)
                }()
                packNumbers[pack.id] = number
                for blob in pack.blobs {
                    result.records.append(Record(id: blob.id.raw, offset: UInt64(blob.offset), length: UInt64(blob.length),
                                                 uncompressedLength: blob.uncompressedLength.map(UInt64.init) ?? Self.uncompressedNone,
                                                 pack: number, sequence: 0, type: blob.type))
                }
            }
            ranges.append((info.file.name, start..<result.records.count))
        }
        // The records of superseded files go; the others keep file order.
        var kept = 0
        for (name, range) in ranges {
            if superseded.contains(name) {
                result.filesSuperseded += 1
                continue
            }
            result.filesRead += 1
            for i in range {
                var record = result.records[i]
                record.sequence = UInt32(kept)
                result.records[kept] = record
                let end = Int(record.offset + record.length)
                let pack = result.packs[Int(record.pack)]
                result.dataEnds[pack] = max(result.dataEnds[pack] ?? 0, end)
                kept += 1
            }
        }
        result.records.removeSubrange(kept...)
        result.records.sort { $0.id != $1.id ? $0.id < $1.id : $0.sequence < $1.sequence }
        var distinct = 0
        for i in result.records.indices where i == 0 || result.records[i].id != result.records[i - 1].id {
            result.records[distinct] = result.records[i]
            distinct += 1
        }
        result.records.removeSubrange(distinct...)
        return result
    }
}
