import XCTest
@testable import SnapRepository

final class RecordTableTests: XCTestCase {
    private struct Item: Equatable {
        var key: UInt64
        var tag: UInt32
    }

    /// Deterministic pseudo-random keys (splitmix64), so that a failure repeats.
    private func keys(_ count: Int, seed: UInt64) -> [UInt64] {
        var state = seed
        return (0..<count).map { _ in
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    private func contents(_ table: RecordTable<Item>) -> [Item] {
        var items: [Item] = []
        table.forEach { items.append($0) }
        return items
    }

    // Appended records, out of order and with repeated keys, come out sorted with one record per key.
    func testSortAndDeduplicate() {
        let table = RecordTable<Item>()
        let source = keys(5000, seed: 1)
        for (n, k) in (source + source.prefix(700)).enumerated() { table.append(Item(key: k, tag: UInt32(n))) }
        XCTAssertEqual(table.count, 5700)
        table.sortAndDeduplicate(by: { $0.key < $1.key }, dropping: { $0.key == $1.key })
        XCTAssertEqual(contents(table).map(\.key), Array(Set(source)).sorted())
        XCTAssertEqual(table.count, Set(source).count)
    }

    // Batches merged one after another, across many regrowths of the mapping, give exactly
    // the sorted union; every record keeps its own payload and is found by binary search.
    func testMergesEqualASortedUnion() {
        let table = RecordTable<Item>()
        var expected: [Item] = []
        let all = keys(120_000, seed: 7)
        var start = 0
        for size in [1, 2, 3, 1000, 4096, 10_000, 50_000, 54_898] {
            let batch = all[start..<start + size].enumerated().map { Item(key: $0.element, tag: UInt32(start + $0.offset)) }
            start += size
            table.merge(batch.sorted { $0.key < $1.key }, by: { $0.key < $1.key })
            expected += batch
        }
        expected.sort { $0.key < $1.key }
        XCTAssertEqual(table.count, 120_000)
        XCTAssertEqual(contents(table), expected)
        for probe in stride(from: 0, to: expected.count, by: 997) {
            let i = table.partitionPoint { $0.key < expected[probe].key }
            XCTAssertEqual(table[i], expected[probe])
        }
        XCTAssertEqual(table.partitionPoint { _ in true }, table.count)
    }

    // Merging into a loaded table interleaves the new records with the old ones at both ends.
    func testMergeBeforeAfterAndBetween() {
        let table = RecordTable<Item>()
        for k: UInt64 in [10, 20, 30] { table.append(Item(key: k, tag: 0)) }
        table.sortAndDeduplicate(by: { $0.key < $1.key }, dropping: { $0.key == $1.key })
        table.merge([Item(key: 5, tag: 1), Item(key: 25, tag: 1), Item(key: 40, tag: 1)], by: { $0.key < $1.key })
        XCTAssertEqual(contents(table).map(\.key), [5, 10, 20, 25, 30, 40])
        XCTAssertEqual(contents(table).map(\.tag), [1, 0, 0, 1, 0, 1])
    }

    // removeAll(where:) keeps the order of what remains, and a table emptied that way can grow again.
    func testRemoveKeepsOrderAndTheTableCanGrowAgain() {
        let table = RecordTable<Item>()
        let sorted = keys(30_000, seed: 3).sorted().map { Item(key: $0, tag: UInt32(truncatingIfNeeded: $0)) }
        table.merge(sorted, by: { $0.key < $1.key })
        table.removeAll { $0.key % 3 == 0 }
        XCTAssertEqual(contents(table), sorted.filter { $0.key % 3 != 0 })
        table.removeAll { _ in true }
        XCTAssertEqual(table.count, 0)
        XCTAssertEqual(table.partitionPoint { _ in true }, 0)
        table.merge([Item(key: 1, tag: 2)], by: { $0.key < $1.key })
        XCTAssertEqual(contents(table), [Item(key: 1, tag: 2)])
    }

    // An empty table answers every query without memory of its own.
    func testEmptyTable() {
        let table = RecordTable<Item>()
        table.merge([], by: { $0.key < $1.key })
        table.sortAndDeduplicate(by: { $0.key < $1.key }, dropping: { $0.key == $1.key })
        table.removeAll { _ in true }
        XCTAssertEqual(table.count, 0)
        XCTAssertEqual(table.partitionPoint { _ in true }, 0)
        XCTAssertEqual(contents(table), [])
    }
}
