import Foundation
import XCTest
import SnapTestSupport

/// A program that reads `restic backup --json` reads `snap backup --json`: every field the
/// real restic (Debian's 0.14) puts in its `status` and `summary` messages is in snap's, with
/// the same JSON type.
final class ResticJSONCompatibilityTests: XCTestCase {
    var work = ""

    override func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/restic") else {
            throw XCTSkip("restic is not installed (scripts/install-deps.sh installs it)")
        }
        work = try makeTemporaryFolder("resticjson")
        try FileManager.default.createDirectory(atPath: "\(work)/src/sub", withIntermediateDirectories: true)
        let random = try XCTUnwrap(FileHandle(forReadingAtPath: "/dev/urandom")).readData(ofLength: 64 << 20)
        try random.write(to: URL(fileURLWithPath: "\(work)/src/big.bin"))
        try "a\n".write(toFile: "\(work)/src/sub/a.txt", atomically: false, encoding: .utf8)
    }

    override func tearDownWithError() throws {
        if !work.isEmpty { try? FileManager.default.removeItem(atPath: work) }
    }

    /// The JSON type of a value, as decoded (a boolean is not a number here, unlike NSNumber).
    private enum Kind: String, Decodable {
        case string, number, bool, array, object, null

        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if c.decodeNil() { self = .null }
            else if (try? c.decode(Bool.self)) != nil { self = .bool }
            else if (try? c.decode(Double.self)) != nil { self = .number }
            else if (try? c.decode(String.self)) != nil { self = .string }
            else if (try? c.decode([Kind].self)) != nil { self = .array }
            else { _ = try c.decode([String: Kind].self); self = .object }
        }
    }

    /// Field name → JSON type, over all messages of each type in a stream.
    private func fields(_ stream: String) throws -> [String: [String: Kind]] {
        var result: [String: [String: Kind]] = [:]
        for line in stream.split(separator: "\n") {
            let message = try JSONDecoder().decode([String: Kind].self, from: Data(line.utf8))
            guard let type = (try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["message_type"] as? String else { continue }
            result[type, default: [:]].merge(message) { $1 }
        }
        return result
    }

    func testSnapBackupStreamHasEveryResticField() throws {
        let environment = ["RESTIC_PASSWORD": "pw", "PATH": "/usr/bin:/bin", "HOME": work, "RESTIC_CACHE_DIR": "\(work)/restic-cache"]
        XCTAssertEqual(try runTool("/usr/bin/restic", ["init", "-r", "\(work)/restic-repo"], environment: environment).status, 0)
        let restic = try runTool("/usr/bin/restic", ["-r", "\(work)/restic-repo", "backup", "--json", "\(work)/src"], environment: environment)
        XCTAssertEqual(restic.status, 0)
        let expected = try fields(restic.stdout)
        XCTAssertNotNil(expected["summary"], restic.stdout)
        XCTAssertNotNil(expected["status"], restic.stdout)

        let snap = SnapProcess(environment: ["SNAP_PASSWORD": "pw", "SNAP_REPOSITORY": "\(work)/repo", "SNAP_CACHE_DIR": "\(work)/cache"])
        try snap.expect(0, ["init"])
        let stream = try snap.expect(0, ["--json", "--progress-interval", "0.02", "backup", "\(work)/src"]).stdout
        let found = try fields(stream)
        for (type, keys) in expected {
            let ours = try XCTUnwrap(found[type], "snap printed no \(type) message: \(stream)")
            for (key, kind) in keys {
                XCTAssertEqual(ours[key], kind, "\(type).\(key): restic gives a \(kind)")
            }
        }
    }

    // `ls --json` nodes: every key restic's have (but `atime`, which snap does not keep) with
    // the same JSON type, and the same `mode` (Go's FileMode) and `permissions` for a
    // folder, a setuid file, a sticky folder, a symlink and a fifo.
    func testLsNodesMatchRestics() throws {
        let src = "\(work)/src"
        XCTAssertEqual(chmod("\(src)/sub/a.txt", 0o4751), 0)
        try FileManager.default.createDirectory(atPath: "\(src)/tmp", withIntermediateDirectories: false)
        XCTAssertEqual(chmod("\(src)/tmp", 0o1777), 0)
        try FileManager.default.createSymbolicLink(atPath: "\(src)/link", withDestinationPath: "sub/a.txt")
        XCTAssertEqual(mkfifo("\(src)/fifo", 0o640), 0)
        let environment = ["RESTIC_PASSWORD": "pw", "PATH": "/usr/bin:/bin", "HOME": work, "RESTIC_CACHE_DIR": "\(work)/restic-cache"]
        XCTAssertEqual(try runTool("/usr/bin/restic", ["init", "-r", "\(work)/restic-repo"], environment: environment).status, 0)
        XCTAssertEqual(try runTool("/usr/bin/restic", ["-r", "\(work)/restic-repo", "backup", src], environment: environment).status, 0)
        let restic = try runTool("/usr/bin/restic", ["-r", "\(work)/restic-repo", "ls", "--json", "latest"], environment: environment)
        let snap = SnapProcess(environment: ["SNAP_PASSWORD": "pw", "SNAP_REPOSITORY": "\(work)/repo", "SNAP_CACHE_DIR": "\(work)/cache"])
        try snap.expect(0, ["init"])
        try snap.expect(0, ["backup", src])
        let ours = try snap.expect(0, ["--json", "ls", "latest"]).stdout

        func nodes(_ stream: String) throws -> [String: (kinds: [String: Kind], object: [String: Any])] {
            var result: [String: (kinds: [String: Kind], object: [String: Any])] = [:]
            for line in stream.split(separator: "\n") {
                let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                guard object["struct_type"] as? String == "node", let path = object["path"] as? String else { continue }
                result[path] = (try JSONDecoder().decode([String: Kind].self, from: Data(line.utf8)), object)
            }
            return result
        }
        let theirs = try nodes(restic.stdout), mine = try nodes(ours)
        for path in ["\(src)/sub", "\(src)/sub/a.txt", "\(src)/tmp", "\(src)/link", "\(src)/fifo"] {
            let r = try XCTUnwrap(theirs[path], "restic lists \(path): \(restic.stdout)"), s = try XCTUnwrap(mine[path], "snap lists \(path)")
            XCTAssertEqual(s.object["mode"] as? UInt64, r.object["mode"] as? UInt64, path)
            XCTAssertEqual(s.object["permissions"] as? String, r.object["permissions"] as? String, path)
            for (key, kind) in r.kinds where key != "atime" {
                XCTAssertEqual(s.kinds[key], kind, "\(path): \(key): restic gives a \(kind)")
            }
        }
    }
}
