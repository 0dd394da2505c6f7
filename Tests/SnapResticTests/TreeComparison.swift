import CPosix
import Foundation
import XCTest
@testable import SnapRestic

/// Compares a restic tree, as the reader returns it, with a folder on disk right after the
/// backup: the same names (as bytes), kinds, sizes, permissions, times, owners, inodes,
/// link counts, contents, link targets and extended attributes.
struct TreeComparison {
    let repository: ResticRepository
    var filesCompared = 0
    var bytesCompared = 0

    init(repository: ResticRepository) { self.repository = repository }

    mutating func compare(tree: ResticBlobID, folder: [UInt8], file: StaticString = #filePath, line: UInt = #line) throws {
        let nodes = try repository.loadTree(tree)
        let onDisk = try Self.names(in: folder).sorted { $0.lexicographicallyPrecedes($1) }
        XCTAssertEqual(nodes.map(\.name).sorted { $0.lexicographicallyPrecedes($1) }, onDisk,
                       "entries of \(String(decoding: folder, as: UTF8.self))", file: file, line: line)
        for node in nodes {
            let path = folder + [47] + node.name
            let shown = String(decoding: path, as: UTF8.self)
            var info = stat()
            guard Self.withPath(path, { lstat($0, &info) }) == 0 else {
                XCTFail("\(shown) is in the snapshot but not on disk", file: file, line: line)
                continue
            }
            XCTAssertEqual(node.permissions, UInt32(info.st_mode) & 0o7777, "permissions of \(shown)", file: file, line: line)
            XCTAssertEqual(node.uid, info.st_uid, "uid of \(shown)", file: file, line: line)
            XCTAssertEqual(node.gid, info.st_gid, "gid of \(shown)", file: file, line: line)
            XCTAssertEqual(node.inode, UInt64(info.st_ino), "inode of \(shown)", file: file, line: line)
            XCTAssertEqual(node.mtime?.seconds, Int64(info.st_mtim.tv_sec), "mtime of \(shown)", file: file, line: line)
            XCTAssertEqual(node.mtime?.nanoseconds, Int32(info.st_mtim.tv_nsec), "mtime ns of \(shown)", file: file, line: line)
            XCTAssertEqual(try Self.xattrs(path), node.extendedAttributes.filter { $0.name.hasPrefix("user.") }.sorted { $0.name < $1.name }.map { [$0.name: $0.value] },
                           "xattrs of \(shown)", file: file, line: line)
            switch UInt32(info.st_mode) & UInt32(S_IFMT) {
            case UInt32(S_IFDIR):
                XCTAssertEqual(node.kind, .dir, shown, file: file, line: line)
                if let subtree = node.subtree { try compare(tree: subtree, folder: path, file: file, line: line) }
            case UInt32(S_IFREG):
                XCTAssertEqual(node.kind, .file, shown, file: file, line: line)
                XCTAssertEqual(node.size, UInt64(info.st_size), "size of \(shown)", file: file, line: line)
                XCTAssertEqual(node.links, UInt64(info.st_nlink), "links of \(shown)", file: file, line: line)
                let content = try repository.contentReader(node.content).readAll()
                XCTAssertTrue(content == (try Self.contents(path)), "content of \(shown)", file: file, line: line)
                filesCompared += 1
                bytesCompared += content.count
            case UInt32(S_IFLNK):
                XCTAssertEqual(node.kind, .symlink, shown, file: file, line: line)
                var target = [CChar](repeating: 0, count: 4096)
                let n = Self.withPath(path) { readlink($0, &target, target.count) }
                XCTAssertEqual(node.linkTarget, target.prefix(max(n, 0)).map { UInt8(bitPattern: $0) }, "target of \(shown)", file: file, line: line)
            case UInt32(S_IFIFO):
                XCTAssertEqual(node.kind, .fifo, shown, file: file, line: line)
            default:
                XCTFail("unexpected file type at \(shown)", file: file, line: line)
            }
        }
    }

    static func withPath<T>(_ path: [UInt8], _ body: (UnsafePointer<CChar>) -> T) -> T {
        (path + [0]).withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { body($0.baseAddress!) } }
    }

    static func names(in folder: [UInt8]) throws -> [[UInt8]] {
        guard let dir = withPath(folder, { opendir($0) }) else { throw FixtureError("cannot list \(String(decoding: folder, as: UTF8.self))") }
        defer { closedir(dir) }
        var names: [[UInt8]] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            if name != [46] && name != [46, 46] { names.append(name) }
        }
        return names
    }

    static func contents(_ path: [UInt8]) throws -> [UInt8] {
        let fd = withPath(path) { open($0, O_RDONLY) }
        guard fd >= 0 else { throw FixtureError("cannot open \(String(decoding: path, as: UTF8.self))") }
        defer { close(fd) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return out }
            out += buffer[0..<n]
        }
    }

    /// The `user.` extended attributes of `path` (without following a symlink), sorted by name.
    static func xattrs(_ path: [UInt8]) throws -> [[String: [UInt8]]] {
        var list = [CChar](repeating: 0, count: 4096)
        let length = withPath(path) { llistxattr($0, &list, list.count) }
        guard length > 0 else { return [] }
        let names = list.prefix(length).split(separator: 0).map { String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        return names.filter { $0.hasPrefix("user.") }.sorted().map { name in
            var value = [UInt8](repeating: 0, count: 65536)
            let n = withPath(path) { lgetxattr($0, name, &value, value.count) }
            return [name: Array(value.prefix(max(n, 0)))]
        }
    }
}
