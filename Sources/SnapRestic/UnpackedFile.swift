import Foundation
import SnapCompression
import SnapCore
import SnapCrypto
import SnapStorage

/// The files that are not packs (`config`, `index/`, `snapshots/`, `locks/`): one sealed
/// JSON document each (restic `doc/design.rst`, "Unpacked Data Format").
enum UnpackedFile {
    /// The most a decompressed JSON document may take; restic keeps index files below
    /// 8 MiB, so this is only a guard against hostile input.
    static let maxDocumentSize = 1 << 30

    /// Reads `file`, checks that its name is the SHA-256 of its bytes (for every kind but
    /// `config`), checks its MAC, decrypts it and returns the JSON document it holds,
    /// decompressed when it starts with encoding version 2.
    static func read(_ file: FileName, from backend: Backend, key: ResticCipherKey) throws -> [UInt8] {
        let bytes: [UInt8]
        do {
            bytes = try backend.readMetadata(file) { file.kind == .config || Hex.encode(SHA256.hash($0)) == file.name }
        } catch {
            throw ResticError.storage(file: file.description, detail: "\(error)")
        }
        if file.kind != .config, Hex.encode(SHA256.hash(bytes)) != file.name {
            throw ResticError.damaged(file: file.description, reason: "its content does not match its name (SHA-256)")
        }
        return try decode(bytes, file: file.description, key: key)
    }

    /// Authenticates, decrypts and unwraps the sealed bytes of `file`.
    static func decode(_ sealed: [UInt8], file: String, key: ResticCipherKey) throws -> [UInt8] {
        let plaintext: [UInt8]
        do {
            plaintext = try key.open(sealed)
        } catch {
            throw ResticError.damaged(file: file, reason: "MAC does not match (modified bytes)")
        }
        guard let first = plaintext.first else { throw ResticError.damaged(file: file, reason: "empty document") }
        switch first {
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            return plaintext
        case 2:
            do {
                let decompressor = try ZstdDecompressor()
                return try plaintext.withUnsafeBytes {
                    try decompressor.decompress(UnsafeRawBufferPointer(rebasing: $0[1...]), limit: maxDocumentSize)
                }
            } catch {
                throw ResticError.damaged(file: file, reason: "zstd: \(error)")
            }
        default:
            throw ResticError.damaged(file: file, reason: "unknown encoding version \(first)")
        }
    }

    /// Decodes the JSON document of `file` as `T`.
    static func decodeJSON<T: Decodable>(_ type: T.Type, _ json: [UInt8], file: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(json))
        } catch {
            throw ResticError.damaged(file: file, reason: "unexpected JSON (\(jsonReason(error)))")
        }
    }
}
