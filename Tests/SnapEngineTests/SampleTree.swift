import XCTest
import SnapEngine
import SnapTestSupport

/// A small source tree with every kind of entry the archiver handles without root.
enum SampleTree {
    static let bigSize = 200_000
    static let mediumSize = 90_000
    static let hardSize = 70_000
    static let notUTF8File: [UInt8] = [0x6e, 0xff, 0xfe]
    static let notUTF8Folder: [UInt8] = [0xc3, 0x28]

    /// Regular files a first backup counts: every name of the hard-linked file counts, as
    /// restic counts them, though its content is read once (`bytesRead`).
    static let filesNew = 8
    /// Folders the archiver lists: the root, docs, docs/nested, empty-dir and the non-UTF-8 folder.
    static let directories = 5
    /// Bytes of content read on a first backup.
    static let bytesRead = UInt64(bigSize + mediumSize + hardSize + readme.count + notUTF8Content.count + inner.count)

    static let readme = Array("read me\n".utf8)
    static let notUTF8Content = Array("a name that is not UTF-8\n".utf8)
    static let inner = Array("inside a folder with a non-UTF-8 name\n".utf8)

    /// Creates the tree at `root`, which must not exist yet.
    static func build(at root: [UInt8]) throws {
        func at(_ parts: String...) -> [UInt8] { parts.reduce(root) { PathBytes.join($0, Disk.bytes($1)) } }
        try Disk.mkdir(root)
        try Disk.write(at("big.bin"), seededBytes(count: bigSize, seed: 1))
        try Disk.mkdir(at("docs"))
        try Disk.write(at("docs", "readme.txt"), readme)
        try Disk.chmod(at("docs", "readme.txt"), 0o640)
        try Disk.mkdir(at("docs", "nested"))
        try Disk.write(at("docs", "nested", "medium.bin"), seededBytes(count: mediumSize, seed: 2))
        try Disk.write(at("empty.txt"), [])
        try Disk.mkdir(at("empty-dir"))
        try Disk.symlink(Disk.bytes("docs/readme.txt"), at: at("link-to-readme"))
        try Disk.symlink(Disk.bytes("/nonexistent/target"), at: at("dangling"))
        try Disk.write(at("hard-1"), seededBytes(count: hardSize, seed: 3))
        try Disk.link(at("hard-1"), at("docs", "hard-2"))
        try Disk.mkfifo(at("fifo"))
        try Disk.write(PathBytes.join(root, notUTF8File), notUTF8Content)
        try Disk.mkdir(PathBytes.join(root, notUTF8Folder))
        try Disk.write(PathBytes.join(PathBytes.join(root, notUTF8Folder), Disk.bytes("inner.txt")), inner)
        try Disk.setMtime(at("big.bin"), seconds: 1_600_000_000, nanoseconds: 123_456_789)
        try Disk.setMtime(at("link-to-readme"), seconds: 1_500_000_000, nanoseconds: 5)
    }
}

/// Fails with one line per path that is missing, extra or different in `actual`.
func assertSameListing(_ actual: [[UInt8]: DiskEntry], _ expected: [[UInt8]: DiskEntry], _ message: String = "",
                       file: StaticString = #filePath, line: UInt = #line) {
    for (path, entry) in expected.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
        guard let got = actual[path] else {
            XCTFail("\(message) missing: \(PathBytes.display(path))", file: file, line: line)
            continue
        }
        if got != entry { XCTFail("\(message) \(PathBytes.display(path)): got \(got), expected \(entry)", file: file, line: line) }
    }
    for path in actual.keys where expected[path] == nil {
        XCTFail("\(message) unexpected: \(PathBytes.display(path))", file: file, line: line)
    }
}
