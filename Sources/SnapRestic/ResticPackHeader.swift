import SnapCore
import SnapStorage

/// The header at the end of a pack (restic `doc/design.rst`, "Pack Format"):
/// `EncryptedBlob1 || … || EncryptedBlobN || EncryptedHeader || Header_Length`, the
/// header listing each blob's type, sealed length, plaintext length (compressed types,
/// repository version 2) and plaintext SHA-256, in the order the blobs are stored.
public struct ResticPackHeader: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public let id: ResticBlobID
        public let type: ResticBlobType
        public let offset: Int
        public let length: Int
        public let uncompressedLength: Int?
    }

    public let entries: [Entry]

    /// Parses a decrypted header; `packSize` bounds the blobs' ranges.
    static func parse(_ plaintext: [UInt8], headerStart: Int, file: String) throws -> ResticPackHeader {
        var entries: [Entry] = []
        var position = 0, offset = 0
        func uint32(_ at: Int) -> Int {
            Int(plaintext[at]) | Int(plaintext[at + 1]) << 8 | Int(plaintext[at + 2]) << 16 | Int(plaintext[at + 3]) << 24
        }
        while position < plaintext.count {
            let kind = plaintext[position]
            let compressed = kind & 2 != 0
            let size = compressed ? 41 : 37
            guard kind <= 3 else { throw ResticError.damaged(file: file, reason: "pack header entry of unknown type \(kind)") }
            guard position + size <= plaintext.count else { throw ResticError.damaged(file: file, reason: "pack header ends inside an entry") }
            let length = uint32(position + 1)
            let uncompressed = compressed ? uint32(position + 5) : nil
            let hashStart = position + (compressed ? 9 : 5)
            guard let id = ResticBlobID(bytes: plaintext[hashStart..<(hashStart + 32)]) else {
                throw ResticError.damaged(file: file, reason: "pack header entry without an ID")  // cannot happen: 32 bytes
            }
            guard length >= ResticCipherKey.overhead, offset + length <= headerStart else {
                throw ResticError.damaged(file: file, reason: "pack header lists blob \(id.short) beyond the blobs' end")
            }
            entries.append(Entry(id: id, type: kind & 1 == 0 ? .data : .tree, offset: offset, length: length,
                                 uncompressedLength: uncompressed))
            offset += length
            position += size
        }
        return ResticPackHeader(entries: entries)
    }

    /// Reads and authenticates the header of `pack` (two ranged reads: the length, then the header).
    static func read(_ pack: ResticPackID, from backend: Backend, key: ResticCipherKey) throws -> ResticPackHeader {
        let file = FileName(.data, pack.hex)
        do {
            let size = try backend.stat(file).size
            guard size >= 4 + ResticCipherKey.overhead else {
                throw ResticError.damaged(file: file.description, reason: "too short for a pack (\(size) bytes)")
            }
            let tail = try backend.read(file, range: (size - 4)..<size)
            let headerLength = Int(tail[0]) | Int(tail[1]) << 8 | Int(tail[2]) << 16 | Int(tail[3]) << 24
            guard headerLength >= ResticCipherKey.overhead, headerLength <= size - 4 else {
                throw ResticError.damaged(file: file.description, reason: "header length \(headerLength) does not fit the pack")
            }
            let headerStart = size - 4 - headerLength
            let sealed = try backend.read(file, range: headerStart..<(size - 4))
            let plaintext: [UInt8]
            do { plaintext = try key.open(sealed) } catch {
                throw ResticError.damaged(file: file.description, reason: "pack header MAC does not match (modified bytes)")
            }
            return try parse(plaintext, headerStart: headerStart, file: file.description)
        } catch let error as ResticError {
            throw error
        } catch {
            throw ResticError.storage(file: file.description, detail: "\(error)")
        }
    }
}
