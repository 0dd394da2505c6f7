import Foundation
import SnapTestSupport
import XCTest

/// The local metadata cache (docs/cache.md), through the built binary against rclone's
/// REST server: commands read index files, snapshots and tree packs from the cache, while
/// `check` reads index files and snapshots from the repository, and tree packs from the
/// cache only when the copy is the one verified before (`--no-cache` reads them too).
final class MetadataCacheTests: XCTestCase {
    private var work = ""

    override func setUpWithError() throws {
        work = try makeTemporaryFolder("cache")
        try FileManager.default.createDirectory(atPath: "\(work)/src/sub", withIntermediateDirectories: true)
        for i in 0..<6 {
            try Data(seededBytes(count: 90_000 + i * 1013, seed: UInt64(40 + i))).write(to: URL(fileURLWithPath: "\(work)/src/sub/f\(i).bin"))
        }
        try "notes\n".write(toFile: "\(work)/src/notes.txt", atomically: false, encoding: .utf8)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    /// Regular files under `folder`, recursively, as paths relative to it.
    private func files(under folder: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: folder) else { return [] }
        return walker.compactMap { $0 as? String }.filter { relative in
            var isFolder: ObjCBool = false
            return FileManager.default.fileExists(atPath: "\(folder)/\(relative)", isDirectory: &isFolder) && !isFolder.boolValue
        }.sorted()
    }

    /// Flips one byte of the file at `path` (in the middle, or at `offset`), keeping its size.
    private func damage(_ path: String, at offset: Int? = nil) throws {
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[offset ?? bytes.count / 2] ^= 0x5a
        try bytes.write(to: URL(fileURLWithPath: path))
    }

    // A backup to a remote repository leaves copies of its index, snapshot and tree packs
    // in $XDG_CACHE_HOME/snap/ID. With the repository's copies of exactly those files
    // damaged, ls, restore and check still work from the cache, while --no-cache and
    // check --read-data report the damage.
    func testCommandsReadMetadataFromTheCache() throws {
        let name = "cache-\(UUID().uuidString.prefix(8).lowercased())"
        let repository = "\(try serverSetting("REST_DATA"))/\(name)"
        let snap = SnapProcess(environment: ["SNAP_REPOSITORY": "rest:\(try serverSetting("REST_URL"))\(name)/",
                                             "SNAP_PASSWORD": "cache pw", "XDG_CACHE_HOME": "\(work)/xdg"])
        try snap.expect(0, ["init"])
        try snap.expect(0, ["backup", "\(work)/src", "-q"])

        let root = "\(work)/xdg/snap"
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(root)/CACHEDIR.TAG"))
        let entries = try FileManager.default.contentsOfDirectory(atPath: root)
        let folders = entries.filter { $0.count == 64 }
        XCTAssertEqual(folders.count, 1, "one folder, named by the repository ID: \(entries)")
        XCTAssertEqual(Set(entries), Set(folders + ["CACHEDIR.TAG", "key-hints"]), "and the key that opened it (docs/cache.md)")
        let cache = "\(root)/\(folders.first ?? "")"
        let cached = files(under: cache)
        XCTAssertEqual(cached.filter { $0.hasPrefix("snapshots/") }.count, 1)
        XCTAssertGreaterThanOrEqual(cached.filter { $0.hasPrefix("index/") }.count, 1)
        let treePacks = cached.filter { $0.hasPrefix("data/") }
        XCTAssertEqual(treePacks.count, 1, "the one pack of trees, not the data packs: \(cached)")
        XCTAssertGreaterThan(files(under: "\(repository)/data").count, treePacks.count)

        for relative in cached { try damage("\(repository)/\(relative)") }

        let listing = try snap.expect(0, ["ls", "latest"])
        XCTAssertTrue(listing.stdout.contains("f5.bin"), listing.stdout)
        try snap.expect(0, ["restore", "latest", "--target", "\(work)/out", "-q"])
        var comparison = TreeComparison()
        comparison.compare(Array("\(work)/src".utf8), Array("\(work)/out\(work)/src".utf8), compareOwners: false)
        XCTAssertEqual(comparison.differences, [])

        let uncached = try snap.run(["ls", "latest", "--no-cache"])
        XCTAssertNotEqual(uncached.status, 0, "without the cache the damaged files are read: \(uncached.stdout)")
        XCTAssertTrue(uncached.stderr.contains("does not match its name"), uncached.stderr)
        // check trusts the copies it holds, as restic's `check --with-cache` does; with
        // --no-cache or --read-data it reads the repository's own files, and finds them damaged.
        try snap.expect(0, ["check"])
        for flag in ["--no-cache", "--read-data"] {
            let check = try snap.run(["check", flag])
            XCTAssertNotEqual(check.status, 0, "check \(flag) reads index files and snapshots from the repository: \(check.stdout)")
        }
    }

    // check reads a tree pack from the cache, whose copy hashes to the pack's name; with
    // --no-cache it reads the repository's copy, and finds it damaged.
    func testCheckReadsTreePacksFromTheCacheUnlessNoCache() throws {
        let name = "cache-\(UUID().uuidString.prefix(8).lowercased())"
        let repository = "\(try serverSetting("REST_DATA"))/\(name)"
        let snap = SnapProcess(environment: ["SNAP_REPOSITORY": "rest:\(try serverSetting("REST_URL"))\(name)/",
                                             "SNAP_PASSWORD": "cache pw", "XDG_CACHE_HOME": "\(work)/xdg"])
        try snap.expect(0, ["init"])
        try snap.expect(0, ["backup", "\(work)/src", "-q"])
        let root = "\(work)/xdg/snap"
        let cache = "\(root)/\(try FileManager.default.contentsOfDirectory(atPath: root).first { $0.count == 64 } ?? "")"
        let treePacks = files(under: cache).filter { $0.hasPrefix("data/") }
        XCTAssertEqual(treePacks.count, 1, "\(treePacks)")
        // Byte 10 lies in the pack's first blob (its header is at the end).
        for relative in treePacks { try damage("\(repository)/\(relative)", at: 10) }

        try snap.expect(0, ["check"])
        let uncached = try snap.run(["check", "--no-cache"])
        XCTAssertNotEqual(uncached.status, 0, uncached.stdout)
        XCTAssertTrue(uncached.stdout.contains("tree blob"), uncached.stdout)
    }

    // A cache folder that cannot be made is named with the system's reason, and the command
    // goes on without a cache.
    func testUnusableCacheFolderIsNamedWithTheReason() throws {
        let snap = SnapProcess(environment: ["SNAP_REPOSITORY": "\(work)/repo", "SNAP_PASSWORD": "cache pw"])
        try snap.expect(0, ["init"])
        try Data().write(to: URL(fileURLWithPath: "\(work)/a-file"))
        let listed = try snap.expect(0, ["snapshots", "--cache-dir", "\(work)/a-file/cache"])
        XCTAssertTrue(listed.stderr.contains("cannot use the cache folder \(work)/a-file/cache (Not a directory); going on without a cache"),
                      listed.stderr)
    }

    // A repository on a local disk gets no cache unless one is asked for with --cache-dir;
    // opening a cache removes those of repositories not used for 30 days.
    func testLocalRepositoryUsesNoCacheByDefault() throws {
        let snap = SnapProcess(environment: ["SNAP_REPOSITORY": "\(work)/repo", "SNAP_PASSWORD": "cache pw",
                                             "XDG_CACHE_HOME": "\(work)/xdg"])
        try snap.expect(0, ["init"])
        try snap.expect(0, ["backup", "\(work)/src", "-q"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(work)/xdg/snap"))

        // Caches of other repositories: one unused for 40 days, one used yesterday.
        let stale = String(repeating: "ab", count: 32), recent = String(repeating: "cd", count: 32)
        for name in [stale, recent, "notes"] {
            try FileManager.default.createDirectory(atPath: "\(work)/chosen/\(name)/index", withIntermediateDirectories: true)
        }
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-40 * 86_400)],
                                              ofItemAtPath: "\(work)/chosen/\(stale)")
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-86_400)],
                                              ofItemAtPath: "\(work)/chosen/\(recent)")

        // Key hints of locations: one not opened from for 40 days, with its copies.
        let hints = "\(work)/chosen/key-hints"
        try FileManager.default.createDirectory(atPath: hints, withIntermediateDirectories: true)
        for suffix in ["", ".key", ".config"] {
            try Data("x".utf8).write(to: URL(fileURLWithPath: "\(hints)/\(stale)\(suffix)"))
            try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-40 * 86_400)],
                                                  ofItemAtPath: "\(hints)/\(stale)\(suffix)")
        }
        try Data("x".utf8).write(to: URL(fileURLWithPath: "\(hints)/\(recent)"))

        try snap.expect(0, ["snapshots", "--cache-dir", "\(work)/chosen"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: hints).filter { $0.hasPrefix(stale) }, [],
                       "a key hint unused for 30 days is removed with its copies")
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(hints)/\(recent)"))
        let kept = files(under: "\(work)/chosen")
        XCTAssertTrue(kept.contains("CACHEDIR.TAG"), "\(kept)")
        XCTAssertEqual(kept.filter { $0.contains("/snapshots/") }.count, 1, "\(kept)")
        let folders = Set(try FileManager.default.contentsOfDirectory(atPath: "\(work)/chosen"))
        XCTAssertFalse(folders.contains(stale), "a cache unused for 30 days is removed")
        XCTAssertTrue(folders.isSuperset(of: [recent, "notes"]), "\(folders)")
    }

    // Each machine opens the repository from its copies of the key file and config; a key
    // removed on another machine (key passwd there) is found gone while the next command
    // here opens the repository: it lists keys/, calls the old password wrong and takes no
    // lock; the new password opens it (docs/cache.md, "Which key opened the repository").
    func testKeyRemovedOnAnotherMachineStopsTheNextCommand() throws {
        let name = "keys-\(UUID().uuidString.prefix(8).lowercased())"
        let repository = "\(try serverSetting("REST_DATA"))/\(name)"
        let url = "rest:\(try serverSetting("REST_URL"))\(name)/"
        let here = SnapProcess(environment: ["SNAP_REPOSITORY": url, "SNAP_PASSWORD": "old pw", "XDG_CACHE_HOME": "\(work)/here"])
        let there = SnapProcess(environment: ["SNAP_REPOSITORY": url, "SNAP_PASSWORD": "old pw", "XDG_CACHE_HOME": "\(work)/there"])
        try here.expect(0, ["init"])
        try here.expect(0, ["backup", "\(work)/src", "-q"])
        let hints = "\(work)/here/snap/key-hints"
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: hints).count, 3, "the name and two copies")
        try there.expect(0, ["snapshots", "-q"])

        try "new pw\n".write(toFile: "\(work)/new-pw", atomically: true, encoding: .utf8)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "\(work)/there/snap/key-hints").count, 3)
        // --no-cache or not, key passwd forgets this machine's copies of the key it replaces.
        try there.expect(0, ["key", "passwd", "--no-cache", "--new-password-file", "\(work)/new-pw"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "\(work)/there/snap/key-hints"), [])

        // REST lists folders one by one: the open asks for the remembered key file, finds it
        // gone, lists keys/ and tries them, and the old password opens none.
        let stopped = try here.run(["backup", "\(work)/src", "-q"])
        XCTAssertEqual(stopped.status, 12, stopped.stderr)
        XCTAssertTrue(stopped.stderr.contains("wrong password"), stopped.stderr)
        XCTAssertEqual(stopped.stderr.split(separator: "\n").count, 1, "one line: \(stopped.stderr)")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "\(repository)/locks"), [], "no lock taken")
        let renewed = SnapProcess(environment: ["SNAP_REPOSITORY": url, "SNAP_PASSWORD": "new pw", "XDG_CACHE_HOME": "\(work)/here"])
        try renewed.expect(0, ["backup", "\(work)/src", "-q"])
        try renewed.expect(0, ["check", "-q"])
    }
}
