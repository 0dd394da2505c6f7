import Foundation
import SnapTestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// End-to-end: `snap prune` killed with SIGKILL at seeded random moments leaves a
/// repository that `snap check` accepts, and the next prune finishes the job.
final class PruneKillTests: XCTestCase {
    func testPruneKilledAtRandomMomentsLeavesCheckableRepository() throws {
        let work = try makeTemporaryFolder("prune-kill")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let prepared = "\(work)/prepared"
        let snap = SnapProcess(environment: ["SNAP_REPOSITORY": prepared, "SNAP_PASSWORD": "pw"])
        try snap.expect(0, ["init", "--pack-size", "1", "--chunk-min", "64", "--chunk-avg", "128", "--chunk-max", "512"])
        let source = "\(work)/src"
        for generation in 0..<3 {
            try? FileManager.default.removeItem(atPath: "\(source)/gen")
            try FileManager.default.createDirectory(atPath: "\(source)/gen", withIntermediateDirectories: true)
            for i in 0..<10 {
                try Data(seededBytes(count: 150_000 + i * 977, seed: UInt64(generation * 1000 + i))).write(to: URL(fileURLWithPath: "\(source)/gen/f\(i).bin"))
            }
            try snap.expect(0, ["backup", source, "-q", "--time", "2024-01-0\(generation + 1)T00:00:00Z"])
        }
        try snap.expect(0, ["forget", "--keep-last", "1", "-q"])

        // How long an uninterrupted prune takes here.
        try copyTree(prepared, "\(work)/timing")
        let started = Date()
        try SnapProcess(environment: ["SNAP_REPOSITORY": "\(work)/timing", "SNAP_PASSWORD": "pw"]).expect(0, ["prune", "--max-unused", "0", "-q"])
        let duration = Date().timeIntervalSince(started)

        var rng = SplitMix64(seed: 99_2026)
        var killed = 0
        for round in 0..<20 {
            let repo = "\(work)/round-\(round)"
            try copyTree(prepared, repo)
            let env = ["SNAP_REPOSITORY": repo, "SNAP_PASSWORD": "pw"]
            let process = Process()
            process.executableURL = URL(fileURLWithPath: SnapProcess.binary)
            process.arguments = ["prune", "--max-unused", "0", "-q"]
            process.environment = env.merging(["PATH": "/usr/bin:/bin"]) { $1 }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            usleep(useconds_t(Double(rng.next() % 1000) / 1000 * duration * 1_000_000))
            if process.isRunning { kill(process.processIdentifier, SIGKILL); killed += 1 }
            process.waitUntilExit()
            let runner = SnapProcess(environment: env)
            try runner.expect(0, ["check"])
            try runner.expect(0, ["prune", "--max-unused", "0", "-q"])
            try runner.expect(0, ["check", "--read-data"])
            try? FileManager.default.removeItem(atPath: repo)
        }
        XCTAssertGreaterThanOrEqual(killed, 10, "most kills must land while prune runs")
        try snap.expect(0, ["restore", "latest", "--target", "\(work)/out", "-q"])
        var comparison = TreeComparison()
        comparison.compare(Array(source.utf8), Array("\(work)/out\(source)".utf8), compareOwners: false)
        XCTAssertEqual(comparison.differences, [])
    }

    private func copyTree(_ from: String, _ to: String) throws {
        try? FileManager.default.removeItem(atPath: to)
        try FileManager.default.copyItem(atPath: from, toPath: to)
    }
}
