import Foundation
import XCTest
import SnapCore
import SnapStorage
@testable import SnapRestic

/// The read-ahead gives every planned file's content, in order and identical to a plain
/// read, with only a few blobs in flight; a damaged blob fails when its file is reached,
/// after the files before it were read whole, and closing then waits for the workers.
final class ResticReadAheadTests: XCTestCase {
    nonisolated(unsafe) private static var shared: ResticFixture?
    private var fixture: ResticFixture!
    private static let fileCount = 12

    override func setUpWithError() throws {
        try XCTSkipIf(ResticFixture.restic == nil, "restic is not installed (scripts/install-deps.sh installs it)")
        if Self.shared == nil {
            let made = try ResticFixture(version: nil)
            for i in 0..<Self.fileCount {
                try made.write(String(format: "f%02d.bin", i), pseudoRandomBytes(count: 20_000 + 1_000 * i, seed: UInt64(10 + i)))
            }
            // Several restic blobs: the read-ahead must keep a file's blobs in order too.
            // Over restic's largest chunk (8 MiB), so it is always more than one blob.
            try made.write("big.bin", pseudoRandomBytes(count: 9 << 20, seed: 7))
            _ = try made.backup(host: "h", tags: [])
            Self.shared = made
        }
        fixture = Self.shared
    }

    override class func tearDown() {
        shared?.folder.remove()
        shared = nil
    }

    /// The regular files of the snapshot, in tree order.
    private func files(_ repository: ResticRepository) throws -> [ResticNode] {
        let root = try repository.loadTree(repository.snapshots[0].snapshot.tree)
        return try repository.loadTree(try XCTUnwrap(root.first?.subtree)).filter { $0.kind == .file }
    }

    func testGivesEveryFileInOrderWithFewBlobsInFlight() throws {
        let repository = try ResticRepository(backend: fixture.backend(), password: ResticFixture.password)
        let files = try files(repository)
        XCTAssertEqual(files.count, Self.fileCount + 1)
        XCTAssertGreaterThan(try XCTUnwrap(files.first { $0.name == Array("big.bin".utf8) }).content.count, 1)
        let ahead = ResticReadAhead(reader: ResticBlobReader(repository: repository),
                                    limits: ResticReadAhead.Limits(threads: 2, maxBlobs: 3, maxBytes: 1 << 20))
        for file in files { ahead.plan(file.content) }
        ahead.fill()
        XCTAssertEqual(ahead.pending, files.reduce(0) { $0 + $1.content.count })
        for file in files {
            let read = try ahead.contentReader(file.content).readAll()
            XCTAssertEqual(read, try repository.contentReader(file.content).readAll(), String(decoding: file.name, as: UTF8.self))
            XCTAssertEqual(UInt64(read.count), file.size)
        }
        XCTAssertEqual(ahead.pending, 0)
    }

    func testDamagedBlobFailsWhenReachedAndCloseWaits() throws {
        let repository = try ResticRepository(backend: fixture.backend(), password: ResticFixture.password)
        let files = try files(repository).filter { $0.content.count == 1 }
        let damaged = 5
        let location = try XCTUnwrap(repository.index.location(of: files[damaged].content[0]))
        let pack = LocalBackend(root: fixture.repository).path(of: FileName(.data, location.pack.hex))
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: pack)))
        bytes[location.offset + location.length / 2] ^= 0x10
        try Data(bytes).write(to: URL(fileURLWithPath: pack))
        defer {
            bytes[location.offset + location.length / 2] ^= 0x10
            try? Data(bytes).write(to: URL(fileURLWithPath: pack))
        }

        let ahead = ResticReadAhead(reader: ResticBlobReader(repository: repository), limits: ResticReadAhead.Limits(threads: 2))
        for file in files { ahead.plan(file.content) }
        ahead.fill()
        for file in files[..<damaged] {
            XCTAssertEqual(UInt64(try ahead.contentReader(file.content).readAll().count), file.size)
        }
        XCTAssertGreaterThan(ahead.pending, 1, "later files are planned or decoding when the damaged one is reached")
        XCTAssertThrowsError(try ahead.contentReader(files[damaged].content).readAll()) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("data/\(location.pack.hex)") && text.contains("damaged"), text)
            XCTAssertFalse(text.contains("\n"), text)
        }
        ahead.close()
        XCTAssertEqual(ahead.pending, 0)
    }
}
