import XCTest
@testable import SnapCore

/// The CPU quota read from fixed texts of /proc/self/cgroup and the cgroup files.
final class CgroupCPULimitTests: XCTestCase {
    /// A file system of the given files; every other path cannot be read.
    private func limit(_ cgroup: String, _ files: [String: String]) -> Int? {
        CgroupCPULimit.limit(procSelfCgroup: cgroup, read: { files[$0] })
    }

    func testV2Quota() {
        let cgroup = "0::/system.slice/backup.service\n"
        XCTAssertEqual(limit(cgroup, ["/sys/fs/cgroup/system.slice/backup.service/cpu.max": "200000 100000\n"]), 2)
        // A fraction of a CPU more is one CPU more; less than one is still one.
        XCTAssertEqual(limit(cgroup, ["/sys/fs/cgroup/system.slice/backup.service/cpu.max": "150000 100000\n"]), 2)
        XCTAssertEqual(limit(cgroup, ["/sys/fs/cgroup/system.slice/backup.service/cpu.max": "10000 100000\n"]), 1)
        XCTAssertNil(limit(cgroup, ["/sys/fs/cgroup/system.slice/backup.service/cpu.max": "max 100000\n"]))
        XCTAssertNil(limit(cgroup, [:]), "no cpu.max: no limit")
    }

    // A limit on any cgroup above the process's applies too; the smallest wins.
    func testV2NestedTakesTheSmallest() {
        let cgroup = "0::/a/b/c\n"
        let files = [
            "/sys/fs/cgroup/a/b/c/cpu.max": "max 100000\n",
            "/sys/fs/cgroup/a/b/cpu.max": "400000 100000\n",
            "/sys/fs/cgroup/a/cpu.max": "300000 100000\n",
        ]
        XCTAssertEqual(limit(cgroup, files), 3)
        XCTAssertEqual(limit("0::/\n", ["/sys/fs/cgroup/cpu.max": "50000 50000\n"]), 1, "a namespaced container sees itself as /")
    }

    func testV1Quota() {
        let cgroup = """
        12:pids:/docker/abc
        4:cpu,cpuacct:/docker/abc
        1:name=systemd:/docker/abc
        0::/system.slice/containerd.service

        """
        let files = [
            "/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "300000\n",
            "/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000\n",
        ]
        XCTAssertEqual(limit(cgroup, files), 3)
        // Inside the container the host's path does not exist: the mount's root is the container's cgroup.
        XCTAssertEqual(limit(cgroup, ["/sys/fs/cgroup/cpu/cpu.cfs_quota_us": "250000", "/sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000"]), 3)
        XCTAssertNil(limit(cgroup, ["/sys/fs/cgroup/cpu/cpu.cfs_quota_us": "-1\n", "/sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n"]))
        XCTAssertNil(limit(cgroup, ["/sys/fs/cgroup/cpu/cpu.cfs_quota_us": "200000\n"]), "a quota without its period is ignored")
    }

    // A hybrid system: v1's cpu controller and v2's cpu.max both limit; the smaller counts.
    func testHybridTakesTheSmaller() {
        let cgroup = "4:cpu,cpuacct:/job\n0::/job\n"
        let files = [
            "/sys/fs/cgroup/cpu,cpuacct/job/cpu.cfs_quota_us": "800000", "/sys/fs/cgroup/cpu,cpuacct/job/cpu.cfs_period_us": "100000",
            "/sys/fs/cgroup/job/cpu.max": "500000 100000",
        ]
        XCTAssertEqual(limit(cgroup, files), 5)
    }

    func testMalformedContentIsIgnored() {
        for text in ["", "max", "100000", "abc 100000", "100000 0", "0 100000", "-5 100000", "1 2 3", "200000 100000 extra"] {
            XCTAssertNil(CgroupCPULimit.cpus(cpuMax: text), text)
        }
        XCTAssertNil(CgroupCPULimit.cpus(cfsQuota: "lots", period: "100000"))
        XCTAssertNil(CgroupCPULimit.cpus(cfsQuota: "100000", period: ""))
        XCTAssertEqual(CgroupCPULimit.memberships("garbage\n1:cpu\n2:cpu:relative\n"), [])
        XCTAssertNil(limit("nonsense", ["/sys/fs/cgroup/cpu.max": "100000 100000"]), "no v2 line: the v2 files are not read")
    }

    func testMemberships() {
        let parsed = CgroupCPULimit.memberships("5:cpu,cpuacct:/a:b\n1:name=systemd:/x\n0::/\n")
        XCTAssertEqual(parsed, [
            .init(hierarchy: "5", controllers: ["cpu", "cpuacct"], path: "/a:b"),
            .init(hierarchy: "1", controllers: [], path: "/x"),
            .init(hierarchy: "0", controllers: [], path: "/"),
        ])
        XCTAssertEqual(CgroupCPULimit.ancestors("/a/b"), ["/a/b", "/a", "/"])
        XCTAssertEqual(CgroupCPULimit.ancestors("/"), ["/"])
    }

    func testWorkerOverride() {
        XCTAssertEqual(Processors.override(environment: "4"), 4)
        XCTAssertEqual(Processors.override(environment: " 12\n"), 12)
        for value in [nil, "", "0", "-2", "two", "4.5", "100000"] {
            XCTAssertNil(Processors.override(environment: value), String(describing: value))
        }
    }

    // The real process: at least one CPU, and no more than the affinity mask allows.
    func testThisProcess() {
        XCTAssertGreaterThanOrEqual(Processors.available, 1)
        if let allowed = Processors.affinityCount() { XCTAssertLessThanOrEqual(Processors.available, allowed) }
    }
}
