import CPosix
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Builds a source tree with every kind of entry snap must preserve, using raw byte names.
enum TreeFixture {
    static let sparseSize: off_t = 200 << 20

    /// Creates the tree in `root` (which must exist). Device nodes need root and are made only then.
    static func build(at root: String) throws {
        let r = Array(root.utf8)
        func path(_ parts: [UInt8]...) -> [UInt8] { parts.reduce(r) { $0 + [47] + $1 } }
        func text(_ s: String) -> [UInt8] { Array(s.utf8) }

        try write(path(text("hello.txt")), Array("hello, snap\n".utf8))
        try write(path(text("empty")), [])
        try mkdir(path(text("empty-dir")))
        try mkdir(path(text("docs")))
        var pattern = [UInt8]()
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<(3 << 20) {  // 3 MiB of seeded pseudo-random text, several chunks at small sizes
            state = state &* 6364136223846793005 &+ 1442695040888963407
            pattern.append(UInt8(97 + (state >> 59) % 26))
        }
        try write(path(text("docs"), text("random.txt")), pattern)
        try write(path(text("docs"), text("copy-of-random.txt")), pattern)  // deduplicated
        try write(path(text("mode-0600")), text("private\n"), mode: 0o600)
        try write(path(text("setgid-exec")), text("#!/bin/sh\n"), mode: 0o2755)

        // Names: non-UTF-8, with a newline, 255 bytes long.
        try write(path([0x6c, 0x61, 0x74, 0x69, 0x6e, 0x31, 0xe9]), text("latin-1 name\n"))
        try write(path([0xff, 0xfe, 0x00 + 0x41]), text("invalid utf-8\n"))
        try write(path(text("line one\nline two")), text("newline in name\n"))
        try write(path([UInt8](repeating: 0x6e, count: 255)), text("long name\n"))
        try write(path(text("ünïcödé ✓")), text("unicode\n"))

        // Deep path: 30 levels of 60-byte names.
        var deep = r
        for level in 0..<30 {
            deep += [47] + Array(String(format: "level-%02d-", level).utf8) + [UInt8](repeating: 0x64, count: 51)
            try mkdir(deep)
        }
        try write(deep + text("/bottom.txt"), text("deep\n"))

        // Links.
        try symlink(text("hello.txt"), at: path(text("link-to-hello")))
        try symlink(text("/nonexistent/target"), at: path(text("dangling-link")))
        try write(path(text("hard-a")), text("hard linked content\n"))
        try link(path(text("hard-a")), path(text("docs"), text("hard-b")))

        // Special files.
        try check(PathBytes.withC(path(text("fifo"))) { mkfifo($0, 0o640) }, "mkfifo")
        try check(PathBytes.withC(path(text("socket"))) { mknod($0, S_IFSOCK | 0o600, 0) }, "mknod socket")
        if getuid() == 0 {
            try check(PathBytes.withC(path(text("null-device"))) { mknod($0, S_IFCHR | 0o666, deviceNumber(1, 3)) }, "mknod chr")
            try check(PathBytes.withC(path(text("block-device"))) { mknod($0, S_IFBLK | 0o660, deviceNumber(7, 200)) }, "mknod blk")
        }

        // Extended attributes.
        try check(PathBytes.withC(path(text("hello.txt"))) { p in
            "greeting".withCString { v in setxattr(p, "user.snap.test", v, 8, 0) }
        }, "setxattr")

        // A 200 MiB sparse file with a little data in the middle.
        let sparse = path(text("sparse.img"))
        let fd = PathBytes.withC(sparse) { open($0, O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
        try check(fd >= 0 ? 0 : -1, "open sparse")
        try check(ftruncate(fd, sparseSize), "ftruncate")
        let island = [UInt8](repeating: 0x5a, count: 100_000)
        _ = island.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 77 << 20) }
        close(fd)

        // Times with nanoseconds, set last (after all children were created).
        var times = [timespec(tv_sec: 1_600_000_000, tv_nsec: 123_456_789), timespec(tv_sec: 1_600_000_000, tv_nsec: 123_456_789)]
        try check(PathBytes.withC(path(text("hello.txt"))) { utimensat(AT_FDCWD, $0, &times, AT_SYMLINK_NOFOLLOW) }, "utimensat")
    }

    static func write(_ path: [UInt8], _ data: [UInt8], mode: mode_t = 0o644) throws {
        let fd = PathBytes.withC(path) { open($0, O_WRONLY | O_CREAT | O_TRUNC, mode) }
        try check(fd >= 0 ? 0 : -1, "create \(String(decoding: path, as: UTF8.self))")
        defer { close(fd) }
        if !data.isEmpty { _ = data.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } }
        try check(PathBytes.withC(path) { chmod($0, mode) }, "chmod")
    }

    static func mkdir(_ path: [UInt8]) throws {
        try check(PathBytes.withC(path) { Glibc.mkdir($0, 0o755) }, "mkdir")
    }

    static func symlink(_ target: [UInt8], at path: [UInt8]) throws {
        try check(PathBytes.withC(target) { t in PathBytes.withC(path) { Glibc.symlink(t, $0) } }, "symlink")
    }

    static func link(_ existing: [UInt8], _ new: [UInt8]) throws {
        try check(PathBytes.withC(existing) { e in PathBytes.withC(new) { Glibc.link(e, $0) } }, "link")
    }

    static func check(_ result: Int32, _ what: String) throws {
        if result != 0 { throw FixtureError("\(what) failed: \(String(cString: strerror(errno)))") }
    }
}

/// Linux's encoding of a device number (glibc's `makedev`, a macro Swift cannot call).
func deviceNumber(_ major: UInt64, _ minor: UInt64) -> dev_t {
    dev_t((major & 0xfff) << 8 | (minor & 0xff) | (minor & ~0xff) << 12 | (major & ~0xfff) << 32)
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

enum PathBytes {
    static func withC<R>(_ path: [UInt8], _ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
        try (path + [0]).withUnsafeBufferPointer { b in try b.withMemoryRebound(to: CChar.self) { try body($0.baseAddress!) } }
    }
}
