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

    /// Checks what JSON cannot: ranges that fit, lengths that hold at least the seal.
    func validate(file: String) throws {
        for pack in packs {
            for blob in pack.blobs {
                let (end, overflow) = blob.offset.addingReportingOverflow(blob.length)
                guard blob.offset >= 0, blob.length >= ResticCipherKey.overhead, !overflow, end <= Int(UInt32.max) * 64,
                      (blob.uncompressedLength ?? 0) >= 0 else {
                    throw ResticError.damaged(file: file, reason: "blob \(blob.id.short) in pack \(pack.id.short) has an impossible range")
                }
            }
        }
    }
}

/// Every blob of the repository and where it is, merged from the index files that no other
/// index file supersedes.
public struct ResticIndex: Sendable {
    private var blobs: [ResticBlobID: ResticBlobLocation] = [:]
    /// Per pack, where its last indexed blob ends: reads up to there stay inside the pack.
    private var dataEnds: [ResticPackID: Int] = [:]
    /// Index files read, and those skipped because another one supersedes them.
    public private(set) var filesRead = 0
    public private(set) var filesSuperseded = 0

    /// The number of distinct blobs.
    public var count: Int { blobs.count }

    /// Where `id` is, if any index file lists it.
    public func location(of id: ResticBlobID) -> ResticBlobLocation? { blobs[id] }

    /// Where the last blob that the index lists in `pack` ends (the header follows).
    public func dataEnd(of pack: ResticPackID) -> Int? { dataEnds[pack] }

    /// Reads every index file of `backend`.
    static func load(from backend: Backend, key: ResticCipherKey) throws -> ResticIndex {
        let files: [FileInfo]
        do { files = try backend.list(.index) } catch { throw ResticError.storage(file: "index/", detail: "\(error)") }
        var parsed: [(name: String, index: ResticIndexFile)] = []
        for info in files.sorted(by: { $0.file.name < $1.file.name }) {
            let json = try UnpackedFile.read(info.file, from: backend, key: key)
            let index = try UnpackedFile.decodeJSON(ResticIndexFile.self, json, file: info.file.description)
            try index.validate(file: info.file.description)
            parsed.append((info.file.name, index))
        }
        let superseded = Set(parsed.flatMap(\.index.supersedes))
        var result = ResticIndex()
        for (name, index) in parsed {
            if superseded.contains(name) {
                result.filesSuperseded += 1
                continue
            }
            result.filesRead += 1
            for pack in index.packs {
                for blob in pack.blobs {
                    result.dataEnds[pack.id] = max(result.dataEnds[pack.id] ?? 0, blob.offset + blob.length)
                }
                for blob in pack.blobs where result.blobs[blob.id] == nil {
                    result.blobs[blob.id] = ResticBlobLocation(type: blob.type, pack: pack.id, offset: blob.offset,
                                                               length: blob.length, uncompressedLength: blob.uncompressedLength)
                }
            }
        }
        return result
    }
}
