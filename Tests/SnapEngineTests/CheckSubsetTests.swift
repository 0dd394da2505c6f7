import XCTest
import SnapCore
import SnapEngine
import SnapRepository
import SnapTestSupport

final class CheckSubsetTests: XCTestCase {
    // Slices 1/3, 2/3 and 3/3 of a real repository read every indexed pack exactly once,
    // each pack in the slice the documented rule gives.
    func testSlicesCoverEveryPackExactlyOnce() throws {
        let f = try CheckFixture()
        try Disk.mkdir(f.src)
        for i in 0..<8 { try Disk.write(f.at("file-\(i).bin"), seededBytes(count: 700_000, seed: UInt64(100 + i))) }
        try f.backup()
        let packs = try f.indexedPacks()
        XCTAssertGreaterThanOrEqual(packs.count, 6)

        var seen: [PackID: Int] = [:]
        for n in 1...3 {
            let report = try f.check(readData: .slice(n, of: 3))
            XCTAssertTrue(report.isHealthy, report.summary)
            for pack in report.packsRead {
                seen[pack, default: 0] += 1
                let prefix = UInt32(Hex.decode(String(pack.hex.prefix(8)))!.reduce(0) { $0 << 8 | UInt32($1) })
                XCTAssertEqual(Int(prefix % 3), n - 1, "pack \(pack.short) read in slice \(n)/3")
            }
        }
        XCTAssertEqual(Set(seen.keys), packs)
        XCTAssertTrue(seen.values.allSatisfy { $0 == 1 }, "\(seen)")
    }

    // The rule itself: the first four bytes big-endian, modulo t, plus one.
    func testSliceRuleUsesFirstFourBytesBigEndian() throws {
        func pack(_ prefix: [UInt8]) -> PackID { PackID(bytes: prefix + [UInt8](repeating: 0xee, count: 32 - prefix.count))! }
        XCTAssertEqual(PackSubset.sliceNumber(of: pack([0, 0, 0, 0]), slices: 7), 1)
        XCTAssertEqual(PackSubset.sliceNumber(of: pack([0, 0, 0, 6]), slices: 7), 7)
        XCTAssertEqual(PackSubset.sliceNumber(of: pack([0, 0, 0, 7]), slices: 7), 1)
        // 0x00000100 = 256 = 36·7 + 4 → slice 5; a little-endian reading would give 0x00010000 = 65536 → slice 3.
        XCTAssertEqual(PackSubset.sliceNumber(of: pack([0, 0, 1, 0]), slices: 7), 5)
        // 0xffffffff = 4294967295 = 613566756·7 + 3 → slice 4; the fifth byte does not count.
        XCTAssertEqual(PackSubset.sliceNumber(of: pack([0xff, 0xff, 0xff, 0xff, 0x01]), slices: 7), 4)
        var random = SplitMix64(seed: 1)
        let all = (0..<70).map { pack([UInt8($0), 1, 2, 3]) }
        var union: [PackID] = []
        for n in 1...7 { union += PackSubset.slice(n, of: 7).select(from: all, using: &random) }
        XCTAssertEqual(union.sorted(), all.sorted())
    }

    func testParsing() throws {
        XCTAssertEqual(try PackSubset(parsing: "2/7"), .slice(2, of: 7))
        XCTAssertEqual(try PackSubset(parsing: "7/7"), .slice(7, of: 7))
        XCTAssertEqual(try PackSubset(parsing: "1/1"), .all)
        XCTAssertEqual(try PackSubset(parsing: "10%"), .percent(10))
        XCTAssertEqual(try PackSubset(parsing: "2.5%"), .percent(2.5))
        XCTAssertEqual(try PackSubset(parsing: "100%"), .all)
        for bad in ["0/7", "8/7", "1/0", "-1/3", "3", "a/b", "1/2/3", "0%", "101%", "-5%", "%", "nan%", "", "1 /3x"] {
            XCTAssertThrowsError(try PackSubset(parsing: bad), "'\(bad)' must be refused")
        }
    }

    // N% takes ⌈N% · count⌉ packs at random: a different choice for another seed, the same for the same seed.
    func testPercentTakesTheCeilingShareAtRandom() throws {
        let all = (0..<40).map { PackID(bytes: [UInt8]([UInt8($0)] + [UInt8](repeating: 7, count: 31)))! }
        var a = SplitMix64(seed: 1), b = SplitMix64(seed: 1), c = SplitMix64(seed: 2)
        let first = PackSubset.percent(10).select(from: all, using: &a)
        XCTAssertEqual(first.count, 4)
        XCTAssertEqual(PackSubset.percent(10).select(from: all, using: &b), first)
        XCTAssertNotEqual(PackSubset.percent(10).select(from: all, using: &c), first)
        var d = SplitMix64(seed: 3)
        XCTAssertEqual(PackSubset.percent(0.1).select(from: all, using: &d).count, 1, "any share above zero reads at least one pack")
        XCTAssertEqual(PackSubset.percent(51).select(from: all, using: &d).count, 21)
    }
}
