import CPosix
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Compares a source tree with its restored copy entry by entry: type, mode, owner,
/// mtime (with nanoseconds), size, content, symlink target, device number, extended
/// attributes, and which names share an inode.
struct TreeComparison {
    private(set) var differences: [String] = []
    private var inodeMap: [UInt64: UInt64] = [:]
    private(set) var entriesCompared = 0

    mutating func compare(_ source: [UInt8], _ restored: [UInt8], compareOwners: Bool) {
        var a = stat(), b = stat()
        let name = String(decoding: source, as: UTF8.self)
        guard PathBytes.withC(source, { lstat($0, &a) }) == 0 else { differences.append("\(name): cannot stat source"); return }
        guard PathBytes.withC(restored, { lstat($0, &b) }) == 0 else { differences.append("\(name): missing after restore"); return }
        entriesCompared += 1
        let typeA = a.st_mode & S_IFMT, typeB = b.st_mode & S_IFMT
        guard typeA == typeB else { differences.append("\(name): type \(typeA) became \(typeB)"); return }
        if typeA != S_IFLNK && a.st_mode & 0o7777 != b.st_mode & 0o7777 {
            differences.append("\(name): mode \(String(a.st_mode & 0o7777, radix: 8)) became \(String(b.st_mode & 0o7777, radix: 8))")
        }
        if compareOwners && (a.st_uid != b.st_uid || a.st_gid != b.st_gid) { differences.append("\(name): owner differs") }
        if a.st_mtim.tv_sec != b.st_mtim.tv_sec || a.st_mtim.tv_nsec != b.st_mtim.tv_nsec {
            differences.append("\(name): mtime \(a.st_mtim.tv_sec).\(a.st_mtim.tv_nsec) became \(b.st_mtim.tv_sec).\(b.st_mtim.tv_nsec)")
        }
        if xattrs(source) != xattrs(restored) { differences.append("\(name): extended attributes differ") }
        switch typeA {
        case S_IFREG:
            if a.st_nlink > 1 {
                if let mapped = inodeMap[UInt64(a.st_ino)], mapped != UInt64(b.st_ino) {
                    differences.append("\(name): hard link not preserved")
                }
                inodeMap[UInt64(a.st_ino)] = UInt64(b.st_ino)
            }
            if a.st_size != b.st_size { differences.append("\(name): size \(a.st_size) became \(b.st_size)") }
            else if !sameContent(source, restored) { differences.append("\(name): content differs") }
        case S_IFLNK:
            if readLink(source) != readLink(restored) { differences.append("\(name): link target differs") }
        case S_IFCHR, S_IFBLK:
            if a.st_rdev != b.st_rdev { differences.append("\(name): device number differs") }
        case S_IFDIR:
            let namesA = entries(source), namesB = entries(restored)
            if namesA != namesB { differences.append("\(name): folder entries differ: \(namesA.count) vs \(namesB.count)") }
            for child in namesA where namesB.contains(child) {
                compare(source + [47] + child, restored + [47] + child, compareOwners: compareOwners)
            }
        default:
            break
        }
    }

    private func entries(_ path: [UInt8]) -> [[UInt8]] {
        guard let dir = PathBytes.withC(path, { opendir($0) }) else { return [] }
        defer { closedir(dir) }
        var names: [[UInt8]] = []
        while let e = readdir(dir) {
            let n = withUnsafeBytes(of: e.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            if n != [46] && n != [46, 46] { names.append(n) }
        }
        return names.sorted { $0.lexicographicallyPrecedes($1) }
    }

    private func readLink(_ path: [UInt8]) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 4097)
        let n = PathBytes.withC(path) { p in buffer.withUnsafeMutableBytes { Glibc.readlink(p, $0.baseAddress!.assumingMemoryBound(to: CChar.self), 4096) } }
        return n < 0 ? [] : Array(buffer[..<n])
    }

    private func xattrs(_ path: [UInt8]) -> [String: [UInt8]] {
        var list = [CChar](repeating: 0, count: 65536)
        let n = PathBytes.withC(path) { llistxattr($0, &list, list.count) }
        guard n > 0 else { return [:] }
        var result: [String: [UInt8]] = [:]
        for raw in list[..<n].split(separator: 0) {
            let key = String(decoding: raw.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            var value = [UInt8](repeating: 0, count: 65536)
            let m = PathBytes.withC(path) { p in value.withUnsafeMutableBytes { lgetxattr(p, key, $0.baseAddress, $0.count) } }
            result[key] = m < 0 ? nil : Array(value[..<m])
        }
        return result
    }

    private func sameContent(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        let fa = PathBytes.withC(a) { open($0, O_RDONLY) }, fb = PathBytes.withC(b) { open($0, O_RDONLY) }
        defer { close(fa); close(fb) }
        guard fa >= 0, fb >= 0 else { return false }
        var ba = [UInt8](repeating: 0, count: 1 << 20), bb = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let na = ba.withUnsafeMutableBytes { read(fa, $0.baseAddress, $0.count) }
            let nb = bb.withUnsafeMutableBytes { read(fb, $0.baseAddress, $0.count) }
            if na != nb { return false }
            if na <= 0 { return na == 0 }
            if ba[..<na] != bb[..<nb] { return false }
        }
    }
}
