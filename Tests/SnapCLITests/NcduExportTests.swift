import Foundation
import SnapTestSupport
import XCTest

/// `ls --ncdu` (restic 0.17's): the snapshot in ncdu's export format, read back by the real
/// ncdu (`ncdu -f FILE -o FILE` imports the export and writes it out again, failing on a
/// file it cannot read).
final class NcduExportTests: XCTestCase {
    private var work = ""
    private var snap = SnapProcess(environment: [:])

    override func setUpWithError() throws {
        work = try makeTemporaryFolder("ncdu")
        snap = SnapProcess(environment: ["SNAP_REPOSITORY": "\(work)/repo", "SNAP_PASSWORD": "pw", "SNAP_CACHE_DIR": "\(work)/cache"])
        try snap.expect(0, ["init", "-q"])
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    /// ncdu's tree as "path size" lines (files and folders, sizes of files), from its own
    /// export of what it imported. Names that are not UTF-8 read as U+FFFD here.
    private func ncduListing(_ export: String) throws -> [String] {
        let again = "\(export).again"
        let result = try runTool("/usr/bin/env", ["ncdu", "-f", export, "-o", again])
        XCTAssertEqual(result.status, 0, "ncdu read the export")
        let bytes = try XCTUnwrap(FileManager.default.contents(atPath: again))
        let top = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(String(decoding: bytes, as: UTF8.self).utf8)) as? [Any])
        var lines: [String] = []
        func visit(_ entry: Any, _ parent: String?) {
            let info = (entry as? [Any])?.first as? [String: Any] ?? entry as? [String: Any] ?? [:]
            let name = info["name"] as? String ?? "?"
            let path = parent.map { $0 == "/" ? "/\(name)" : "\($0)/\(name)" } ?? name
            if let folder = entry as? [Any] {
                lines.append(path == "/" ? "/" : "\(path)/")
                for child in folder.dropFirst() { visit(child, path) }
            } else {
                lines.append("\(path) \(info["asize"] as? Int ?? 0)")
            }
        }
        visit(try XCTUnwrap(top.last), nil)
        return lines.sorted()
    }

    func testNcduReadsTheExport() throws {
        let src = "\(work)/src"
        try FileManager.default.createDirectory(atPath: "\(src)/d1/d2", withIntermediateDirectories: true)
        try Data(count: 5000).write(to: URL(fileURLWithPath: "\(src)/d1/d2/big"))
        try "hello\n".write(toFile: "\(src)/d1/f1", atomically: false, encoding: .utf8)
        XCTAssertEqual(link("\(src)/d1/f1", "\(src)/d1/hard"), 0)
        try FileManager.default.createSymbolicLink(atPath: "\(src)/d1/sym", withDestinationPath: "f1")
        try "q".write(toFile: "\(src)/quote\"back\\slash", atomically: false, encoding: .utf8)
        try "n".write(toFile: "\(src)/new\nline", atomically: false, encoding: .utf8)
        let raw = Array("\(src)/bad".utf8) + [0xE9] + Array("name".utf8) + [0]
        let fd = raw.withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_CREAT | O_WRONLY, 0o644) } }
        XCTAssertGreaterThanOrEqual(fd, 0)
        close(fd)
        try snap.expect(0, ["backup", src, "-q"])

        // Through a shell, so that the export's bytes reach the file as they are.
        let export = "\(work)/export.json"
        let environment = ProcessInfo.processInfo.environment.merging(snap.environment) { $1 }
        XCTAssertEqual(try runTool("/bin/sh", ["-c", "'\(SnapProcess.binary)' ls latest --ncdu > '\(export)'"], environment: environment).status, 0)
        let lines = try ncduListing(export)
        for expected in ["\(src)/d1/", "\(src)/d1/d2/", "\(src)/d1/d2/big 5000", "\(src)/d1/f1 6", "\(src)/d1/hard 6",
                         "\(src)/d1/sym 0", "\(src)/quote\"back\\slash 1", "\(src)/new\nline 1", "\(src)/bad\u{FFFD}name 0", "/"] {
            XCTAssertTrue(lines.contains(expected), "\(expected) in \(lines)")
        }
        // The name that is not UTF-8 is written as its bytes, which ncdu shows as they are.
        let written = try XCTUnwrap(FileManager.default.contents(atPath: export))
        XCTAssertNotNil(written.range(of: Data(Array("\"bad".utf8) + [0xE9] + Array("name\"".utf8))))

        let subfolder = try snap.expect(0, ["ls", "latest:\(src)/d1", "--ncdu"]).stdout
        try Data(subfolder.utf8).write(to: URL(fileURLWithPath: "\(work)/sub.json"))
        XCTAssertEqual(try ncduListing("\(work)/sub.json"), ["\(src)/d1/", "\(src)/d1/d2/", "\(src)/d1/d2/big 5000", "\(src)/d1/f1 6",
                                                            "\(src)/d1/hard 6", "\(src)/d1/sym 0"].sorted())
        XCTAssertEqual(try snap.run(["ls", "latest", "--ncdu", "\(src)/d1"]).status, 64, "paths are refused")
    }
}
