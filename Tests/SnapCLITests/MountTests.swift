import CPosix
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `snap mount` for real, through /dev/fuse and libfuse3: the mounted tree against its
/// source, `at/`, a snapshot added while mounted, a damaged blob, signals, a stale mountpoint.
/// Skipped, with the reason, where FUSE cannot be used.
final class MountTests: XCTestCase {
    private var work = ""
    private var snap: SnapProcess!
    private var mounts: [MountedRepository] = []

    override func setUpWithError() throws {
        guard access("/dev/fuse", R_OK | W_OK) == 0 else { throw XCTSkip("FUSE is not available: /dev/fuse is missing or not usable") }
        guard getuid() == 0 || FileManager.default.isExecutableFile(atPath: "/usr/bin/fusermount3") || FileManager.default.isExecutableFile(atPath: "/bin/fusermount3") else {
            throw XCTSkip("fusermount3 is not installed (Debian: fuse3)")
        }
        work = try makeTemporaryFolder("mount", in: "/var/tmp")
        snap = SnapProcess(environment: ["SNAP_REPOSITORY": "\(work)/repo", "SNAP_PASSWORD": "pw"])
        try snap.expect(0, ["init"])
    }

    override func tearDown() {
        for mount in mounts { mount.forceUnmount() }
        mounts = []
        if !work.isEmpty { try? FileManager.default.removeItem(atPath: work) }
    }

    private func mount(_ extra: [String] = [], at name: String = "mnt", environment: [String: String]? = nil,
                       in directory: String? = nil) throws -> MountedRepository {
        let mountpoint = "\(work)/\(name)"
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        let mounted = try MountedRepository(mountpoint: mountpoint, arguments: extra, environment: environment ?? snap.environment,
                                            log: "\(work)/\(name).log", directory: directory)
        mounts.append(mounted)
        try mounted.waitUntilServing()
        return mounted
    }

    func testMountedSnapshotEqualsItsSourceAndSIGINTUnmounts() throws {
        let source = "\(work)/source"
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: false)
        try TreeFixture.build(at: source)
        try snap.expect(0, ["backup", source, "--tag", "fixture", "--host", "alpha"])
        let mounted = try mount()
        let root = mounted.mountpoint
        XCTAssertEqual(try names(root), ["at", "hosts", "ids", "snapshots", "tags"])
        XCTAssertEqual(try names("\(root)/hosts"), ["alpha"])
        XCTAssertEqual(try names("\(root)/tags"), ["fixture"])
        let snapshotNames = try names("\(root)/snapshots")
        XCTAssertEqual(snapshotNames.count, 2)
        XCTAssertEqual(snapshotNames.last, "latest")
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: "\(root)/snapshots/latest"), snapshotNames[0])

        // Every entry through the kernel, against the source: types, modes, owners, mtimes
        // with nanoseconds, sizes, content, link targets, device numbers, xattrs, hard links.
        var comparison = TreeComparison()
        comparison.compare(Array(source.utf8), Array("\(root)/snapshots/latest\(source)".utf8), compareOwners: getuid() == 0)
        XCTAssertEqual(comparison.differences, [])
        XCTAssertGreaterThan(comparison.entriesCompared, 50)
        var st = stat()
        XCTAssertEqual(lstat("\(root)/snapshots/latest\(source)/hard-a", &st), 0)
        XCTAssertEqual(st.st_nlink, 2)
        // The same snapshot by short ID and by host.
        let id = try XCTUnwrap(try names("\(root)/ids").first)
        XCTAssertEqual(try String(contentsOfFile: "\(root)/ids/\(id)\(source)/hello.txt", encoding: .utf8), "hello, snap\n")
        XCTAssertEqual(try String(contentsOfFile: "\(root)/hosts/alpha/latest\(source)/hello.txt", encoding: .utf8), "hello, snap\n")
        // Read-only.
        XCTAssertEqual(open("\(root)/snapshots/latest\(source)/hello.txt", O_WRONLY), -1)
        XCTAssertEqual(errno, EROFS)

        XCTAssertEqual(try mounted.stop(SIGINT), 0, mounted.output)
        XCTAssertFalse(MountedRepository.isMounted(root), "still mounted after SIGINT")
        XCTAssertTrue(mounted.output.contains("unmounted"), mounted.output)
    }

    /// A signal while a program reads a file from the mount: the folder goes at once, the
    /// open file is served to its end, and snap ends once it is closed.
    func testSignalWhileAFileIsOpenServesItToTheEnd() throws {
        let source = "\(work)/source"
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: false)
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<2_000_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try Data(bytes).write(to: URL(fileURLWithPath: "\(source)/big.bin"))
        try snap.expect(0, ["backup", source])
        let mounted = try mount()
        let fd = open("\(mounted.mountpoint)/snapshots/latest\(source)/big.bin", O_RDONLY)
        XCTAssertGreaterThanOrEqual(fd, 0)
        var first = [UInt8](repeating: 0, count: 10)
        XCTAssertEqual(read(fd, &first, 10), 10)

        mounted.send(SIGTERM)
        let gone = Date().addingTimeInterval(10)
        while MountedRepository.isMounted(mounted.mountpoint) && Date() < gone { usleep(20_000) }
        XCTAssertFalse(MountedRepository.isMounted(mounted.mountpoint), "the folder is unmounted at once")
        XCTAssertTrue(mounted.isRunning, "still serving the open file")
        var rest: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &buffer, buffer.count)
            XCTAssertGreaterThanOrEqual(n, 0, "read: \(String(cString: strerror(errno)))")
            if n <= 0 { break }
            rest += buffer[0..<n]
        }
        XCTAssertTrue(first + rest == bytes, "the whole file, \(10 + rest.count) of \(bytes.count) bytes")
        close(fd)
        XCTAssertEqual(try mounted.waitForExit(after: SIGTERM), 0, mounted.output)
        XCTAssertTrue(mounted.output.contains("unmounted"), mounted.output)
        XCTAssertFalse(mounted.output.contains("failed to unmount"), mounted.output)
    }

    func testAtAndASnapshotAddedWhileMounted() throws {
        let data = "\(work)/data"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: false)
        for (time, text) in [("2024-01-01T10:00:00Z", "one"), ("2024-02-01T10:00:00Z", "two")] {
            try text.write(toFile: "\(data)/file.txt", atomically: false, encoding: .utf8)
            try snap.expect(0, ["backup", data, "--time", time, "--host", "alpha"])
        }
        let mounted = try mount()
        let root = mounted.mountpoint
        XCTAssertEqual(try names("\(root)/snapshots"), ["2024-01-01T10:00:00Z", "2024-02-01T10:00:00Z", "latest"])
        XCTAssertEqual(try names("\(root)/at"), [])
        XCTAssertEqual(try names("\(root)/at/2024-01-15T00:00:00Z"), ["alpha"])
        XCTAssertEqual(try String(contentsOfFile: "\(root)/at/2024-01-15T00:00:00Z/alpha\(data)/file.txt", encoding: .utf8), "one")
        XCTAssertEqual(try String(contentsOfFile: "\(root)/at/2024-02-01/alpha\(data)/file.txt", encoding: .utf8), "one", "a date is its midnight")
        XCTAssertEqual(try String(contentsOfFile: "\(root)/at/2024-02-01T10:00:00Z/alpha\(data)/file.txt", encoding: .utf8), "two")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(root)/at/2023-12-31T00:00:00Z"))

        // A backup while the mount is up (and a file open in it): the new snapshot shows.
        let handle = try XCTUnwrap(FileHandle(forReadingAtPath: "\(root)/snapshots/latest\(data)/file.txt"))
        try "three".write(toFile: "\(data)/file.txt", atomically: false, encoding: .utf8)
        try snap.expect(0, ["backup", data, "--time", "2024-03-01T10:00:00Z", "--host", "alpha"])
        usleep(1_100_000)  // the list of snapshots is read again at most every second
        XCTAssertEqual(try names("\(root)/snapshots"), ["2024-01-01T10:00:00Z", "2024-02-01T10:00:00Z", "2024-03-01T10:00:00Z", "latest"])
        XCTAssertEqual(try String(contentsOfFile: "\(root)/snapshots/2024-03-01T10:00:00Z\(data)/file.txt", encoding: .utf8), "three")
        XCTAssertEqual(String(decoding: handle.readDataToEndOfFile(), as: UTF8.self), "two")
        try handle.close()

        XCTAssertEqual(try mounted.stop(SIGTERM), 0, mounted.output)
        XCTAssertFalse(MountedRepository.isMounted(root))
    }

    func testDamagedBlobGivesEIOAndTheMountStaysUp() throws {
        let data = "\(work)/data"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: false)
        try "intact\n".write(toFile: "\(data)/small.txt", atomically: false, encoding: .utf8)
        try snap.expect(0, ["backup", data])
        let before = Set(try packFiles())
        var state: UInt64 = 1
        let random = (0..<(4 << 20)).map { _ -> UInt8 in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        try Data(random).write(to: URL(fileURLWithPath: "\(data)/big.bin"))
        try snap.expect(0, ["backup", data])
        // Damage one byte inside the packs the second backup wrote (big.bin's content).
        for pack in try packFiles() where !before.contains(pack) {
            let handle = try XCTUnwrap(FileHandle(forUpdatingAtPath: pack))
            let size = try handle.seekToEnd()
            guard size > 1 << 20 else { continue }
            try handle.seek(toOffset: 1000)
            let byte = try XCTUnwrap(handle.readData(ofLength: 1).first)
            try handle.seek(toOffset: 1000)
            handle.write(Data([byte ^ 0xff]))
            try handle.close()
        }
        let mounted = try mount()
        let file = "\(mounted.mountpoint)/snapshots/latest\(data)/big.bin"
        let fd = open(file, O_RDONLY)
        XCTAssertGreaterThanOrEqual(fd, 0)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var sawEIO = false
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 { sawEIO = errno == EIO; break }
            if n == 0 { break }
        }
        close(fd)
        XCTAssertTrue(sawEIO, "reading the damaged file must fail with EIO")
        XCTAssertEqual(try String(contentsOfFile: "\(mounted.mountpoint)/snapshots/latest\(data)/small.txt", encoding: .utf8), "intact\n")
        XCTAssertEqual(try mounted.stop(SIGINT), 0)
        XCTAssertFalse(mounted.output.contains("Ignoring invalid max threads"), mounted.output)
        XCTAssertTrue(mounted.output.contains("warning: /snapshots/"), mounted.output)
        XCTAssertTrue(mounted.output.contains("/big.bin"), mounted.output)
    }

    func testKilledMountLeavesAStaleMountpointThatSnapExplains() throws {
        try "x".write(toFile: "\(work)/x", atomically: false, encoding: .utf8)
        try snap.expect(0, ["backup", "\(work)/x"])
        let mounted = try mount()
        mounted.kill()
        // (under timeout: a mount that wrongly succeeded would serve until killed)
        let again = try snap.run(["mount", mounted.mountpoint], prefix: ["/usr/bin/timeout", "-s", "KILL", "20"])
        XCTAssertEqual(again.status, 1)
        XCTAssertTrue(again.stderr.contains("stale") && again.stderr.contains("fusermount3 -u \(mounted.mountpoint)"), again.stderr)
        XCTAssertEqual(again.stderr.split(separator: "\n").count, 1, again.stderr)
        let clear = Process()
        clear.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        clear.arguments = ["fusermount3", "-u", mounted.mountpoint]
        try clear.run()
        clear.waitUntilExit()
        XCTAssertEqual(clear.terminationStatus, 0)
        XCTAssertFalse(MountedRepository.isMounted(mounted.mountpoint))
        let missing = try snap.run(["mount", "\(work)/no-such-folder"], prefix: ["/usr/bin/timeout", "-s", "KILL", "20"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("does not exist"), missing.stderr)
    }

    /// libfuse changes to / before serving: a repository given by a relative path still works.
    /// A folder too large for one kernel readdir request is listed whole, in pages by
    /// offset, with each entry's attributes; `df` (statvfs) shows the stored packs' size.
    func testLargeFolderIsListedWholeAndStatfsShowsTheStoredBytes() throws {
        let data = "\(work)/many"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: false)
        var expected: [String: Int] = [:]
        for i in 0..<600 {  // ~600 × ~150 bytes of readdirplus: about 25 requests of 4 KiB
            let name = String(format: "entry-%04d-with-a-longer-name-to-fill-pages.txt", i)
            try String(repeating: "x", count: i).write(toFile: "\(data)/\(name)", atomically: false, encoding: .utf8)
            expected[name] = i
        }
        try snap.expect(0, ["backup", data])
        let mounted = try mount()
        let folder = "\(mounted.mountpoint)/snapshots/latest\(data)"
        let listed = try FileManager.default.contentsOfDirectory(atPath: folder)
        XCTAssertEqual(listed.count, 600)
        XCTAssertEqual(Set(listed), Set(expected.keys))
        for (name, size) in expected {
            var st = stat()
            XCTAssertEqual(lstat("\(folder)/\(name)", &st), 0, name)
            XCTAssertEqual(Int(st.st_size), size, name)
        }

        var fs = statvfs()
        XCTAssertEqual(statvfs(mounted.mountpoint, &fs), 0)
        XCTAssertEqual(fs.f_bsize, 4096)
        XCTAssertEqual(fs.f_namemax, 255)
        XCTAssertEqual(fs.f_bavail, 0)
        let stored = try packFiles().reduce(0) { total, path in
            total + ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0)
        }
        XCTAssertGreaterThan(stored, 0)
        XCTAssertEqual(Int(fs.f_blocks), (stored + 4095) / 4096)
        XCTAssertEqual(try mounted.stop(SIGINT), 0, mounted.output)
    }

    func testRelativeRepositoryPath() throws {
        try "relative\n".write(toFile: "\(work)/r.txt", atomically: false, encoding: .utf8)
        try snap.expect(0, ["backup", "\(work)/r.txt"])
        let mounted = try mount(environment: ["SNAP_REPOSITORY": "repo", "SNAP_PASSWORD": "pw"], in: work)
        XCTAssertEqual(try String(contentsOfFile: "\(mounted.mountpoint)/snapshots/latest\(work)/r.txt", encoding: .utf8), "relative\n")
        XCTAssertEqual(try mounted.stop(SIGINT), 0, mounted.output)
    }

    /// Without /dev/fuse (hidden here by an empty /dev in a mount namespace of its own),
    /// `snap mount` says why in one line.
    func testWithoutDevFuseSaysWhyInOneLine() throws {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare") else {
            throw XCTSkip("hiding /dev/fuse needs root and unshare")
        }
        try FileManager.default.createDirectory(atPath: "\(work)/mnt", withIntermediateDirectories: true)
        let result = try snap.run(["mount", "\(work)/mnt"], prefix: [
            "/usr/bin/timeout", "-s", "KILL", "20", "/usr/bin/unshare", "-m", "--propagation", "private",
            "sh", "-c", "mount -t tmpfs none /dev && exec \"$0\" \"$@\""])
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("/dev/fuse"), result.stderr)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
    }

    /// Another program cuts the cache's blob index table short while `mount` has it mapped
    /// (the one file snap maps): the next lookup raises SIGBUS, and snap says what happened
    /// in one line and exits 135, rather than ending without a word. 101,000 small files
    /// make the 100,000 blobs from which the index is kept as a table (docs/cache.md).
    func testATableCutShortUnderTheMountIsNamedOnSIGBUS() throws {
        // In /tmp: creating files in a new folder of /var/tmp is twenty times slower on these VMs.
        let source = try makeTemporaryFolder("mount-many")
        defer { try? FileManager.default.removeItem(atPath: source) }
        var written = 0
        for folder in 0..<101 {
            try FileManager.default.createDirectory(atPath: "\(source)/d\(folder)", withIntermediateDirectories: true)
            for file in 0..<1000 {  // open and write, checked once at the end: per-file assertions take seconds
                let fd = open("\(source)/d\(folder)/f\(file)", O_WRONLY | O_CREAT | O_EXCL, 0o644)
                let text = "\(folder) \(file)\n"
                if fd >= 0 && write(fd, text, text.utf8.count) == text.utf8.count { written += 1 }
                close(fd)
            }
        }
        XCTAssertEqual(written, 101_000)
        let cached = SnapProcess(environment: snap.environment.merging(["SNAP_CACHE_DIR": "\(work)/cache"]) { $1 })
        try cached.expect(0, ["backup", "-q", source])
        try cached.expect(0, ["stats", "-q", "--mode", "raw-data"])  // builds the table
        let table = try XCTUnwrap(FileManager.default.subpathsOfDirectory(atPath: "\(work)/cache").first { $0.hasSuffix("blob-index/table") })
        let mounted = try mount(environment: cached.environment)
        let files = "\(mounted.mountpoint)/snapshots/latest\(source)"
        XCTAssertEqual(try String(contentsOfFile: "\(files)/d1/f1", encoding: .utf8), "1 1\n", "read through the mapped table")
        XCTAssertEqual(truncate("\(work)/cache/\(table)", 4096), 0)
        XCTAssertNil(try? String(contentsOfFile: "\(files)/d2/f2", encoding: .utf8))
        XCTAssertEqual(try mounted.waitForExit(after: SIGBUS), 128 + SIGBUS, mounted.output)
        let lines = mounted.output.split(separator: "\n").filter { $0.hasPrefix("snap:") }
        XCTAssertEqual(lines.last.map(String.init),
                       "snap: the cache's blob index table was cut short by another program while this command read it (SIGBUS); "
                       + "run the command again, which rebuilds the table; this command's lock may be left until it goes stale, "
                       + "or 'snap unlock' on this host removes it", mounted.output)
        mounted.forceUnmount()
        try cached.expect(0, ["check", "-q"])
    }

    private func names(_ path: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    }

    private func packFiles() throws -> [String] {
        let root = "\(work)/repo/data"
        return try FileManager.default.subpathsOfDirectory(atPath: root).map { "\(root)/\($0)" }.filter {
            var isFolder: ObjCBool = false
            return FileManager.default.fileExists(atPath: $0, isDirectory: &isFolder) && !isFolder.boolValue
        }
    }
}

/// A `snap mount` process and its mountpoint; always unmounted and ended by `forceUnmount`.
final class MountedRepository {
    let mountpoint: String
    private let process = Process()
    private let log: String

    init(mountpoint: String, arguments: [String], environment: [String: String], log: String, directory: String? = nil) throws {
        self.mountpoint = mountpoint
        self.log = log
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.executableURL = URL(fileURLWithPath: SnapProcess.binary)
        process.arguments = ["mount", mountpoint] + arguments
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SNAP_") }
        env.merge(environment) { $1 }
        env["TZ"] = "UTC"
        process.environment = env
        process.standardInput = FileHandle.nullDevice
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    /// Everything the process wrote so far.
    var output: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    /// Waits (at most 20 s) until the mount serves its top folders.
    func waitUntilServing() throws {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            guard process.isRunning else { throw MountTestError("snap mount ended: \(output)") }
            if Self.isMounted(mountpoint) && FileManager.default.fileExists(atPath: "\(mountpoint)/snapshots") { return }
            usleep(50_000)
        }
        throw MountTestError("the mount did not appear within 20 s: \(output)")
    }

    /// Sends `signal` and waits (at most 20 s) for the exit status.
    func stop(_ signal: Int32) throws -> Int32 {
        send(signal)
        return try waitForExit(after: signal)
    }

    func send(_ signal: Int32) { Glibc.kill(process.processIdentifier, signal) }

    var isRunning: Bool { process.isRunning }

    /// Waits (at most 20 s) for the exit status.
    func waitForExit(after signal: Int32) throws -> Int32 {
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        guard !process.isRunning else { throw MountTestError("snap mount did not end within 20 s of signal \(signal): \(output)") }
        return process.terminationStatus
    }

    /// SIGKILL, leaving the mountpoint stale.
    func kill() {
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    func forceUnmount() {
        if process.isRunning { kill() }
        if Self.isMounted(mountpoint) {
            let clear = Process()
            clear.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            clear.arguments = ["fusermount3", "-u", "-z", mountpoint]
            try? clear.run()
            clear.waitUntilExit()
        }
    }

    /// Whether /proc/self/mountinfo lists `path` as a mountpoint.
    static func isMounted(_ path: String) -> Bool {
        guard let table = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return false }
        return table.split(separator: "\n").contains { $0.split(separator: " ").dropFirst(4).first.map(String.init) == path }
    }
}

struct MountTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
