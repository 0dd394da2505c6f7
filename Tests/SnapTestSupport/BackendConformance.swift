import XCTest
import Dispatch
import Synchronization
import SnapCore
import SnapStorage

/// Checks every guarantee in the doc comment of `Backend` against one implementation.
///
/// Each check runs on a fresh backend from `makeBackend`, so a failing check cannot hide
/// or cause failures in the others. Failures are reported at the caller's file and line,
/// prefixed with the check's name.
public enum BackendConformance {
    /// The names of the checks, in the order `run` performs them.
    public static var checkNames: [String] { checks.map(\.name) }

    /// Runs every check (or only those named in `only`).
    ///
    /// - Parameters:
    ///   - makeBackend: returns a new, empty backend each time it is called.
    ///   - largeFileSize: the size of the file in the large-file check.
    public static func run(makeBackend: () throws -> any Backend,
                           largeFileSize: Int = 20 << 20,
                           only: Set<String>? = nil,
                           file: StaticString = #filePath, line: UInt = #line) throws {
        for check in checks where only?.contains(check.name) ?? true {
            let backend = try makeBackend()
            let context = Context(check: check.name, location: backend.location, largeFileSize: largeFileSize,
                                  file: file, line: line)
            do {
                try check.body(backend, context)
            } catch {
                XCTFail("[\(check.name) on \(backend.location)] unexpected error: \(error)", file: file, line: line)
            }
        }
    }

    private static var checks: [(name: String, body: (any Backend, Context) throws -> Void)] {
        [
        ("writeThenRead", writeThenRead),
        ("rangeReads", rangeReads),
        ("rangePastEndIsInvalid", rangePastEndIsInvalid),
        ("missingFileIsNotFound", missingFileIsNotFound),
        ("listReturnsExactlyEachKind", listReturnsExactlyEachKind),
        ("overwriteWithIdenticalContent", overwriteWithIdenticalContent),
        ("deleteRemoves", deleteRemoves),
        ("configFile", configFile),
        ("concurrentWritesAllLand", concurrentWritesAllLand),
        ("concurrentReadersSeeWholeFilesOnly", concurrentReadersSeeWholeFilesOnly),
        ("largeFileRoundTrip", largeFileRoundTrip),
        ("stagedWritesStoreTheStagedBytes", stagedWritesStoreTheStagedBytes),
        ]
    }

    // MARK: - Checks

    /// Read-after-write: whole reads, stat and exists see exactly what was written, empty files included.
    static func writeThenRead(_ backend: any Backend, _ c: Context) throws {
        let file = FileName(.keys, fileName(1))
        let data = seededBytes(count: 5000, seed: 1)
        try backend.write(file, data: data)
        c.equal(try backend.read(file), data, "read after write")
        c.equal(try backend.read(file, range: nil), data, "read with nil range")
        c.equal(try backend.stat(file), FileInfo(file: file, size: 5000), "stat after write")
        c.equal(try backend.exists(file), true, "exists after write")

        let empty = FileName(.snapshots, fileName(2))
        try backend.write(empty, data: [])
        c.equal(try backend.read(empty), [], "empty file")
        c.equal(try backend.stat(empty).size, 0, "size of empty file")
        c.equal(try backend.read(empty, range: 0..<0), [], "empty range of empty file")
    }

    /// Range reads return exactly the requested bytes, including empty ranges and the last byte.
    static func rangeReads(_ backend: any Backend, _ c: Context) throws {
        let file = FileName(.data, fileName(3))
        let data = seededBytes(count: 1000, seed: 3)
        try backend.write(file, data: data)
        for range in [0..<1000, 0..<1, 10..<20, 999..<1000, 500..<1000, 0..<0, 500..<500, 1000..<1000] {
            c.equal(try backend.read(file, range: range), Array(data[range]), "range \(range)")
        }
    }

    /// A range that ends past the file throws invalidRange, naming the file and its size.
    static func rangePastEndIsInvalid(_ backend: any Backend, _ c: Context) throws {
        let file = FileName(.index, fileName(4))
        try backend.write(file, data: seededBytes(count: 1000, seed: 4))
        for range in [0..<1001, 999..<1001, 1000..<1001, 2000..<3000] {
            c.expectError("range \(range)", try backend.read(file, range: range)) { error in
                guard case let .invalidRange(reported, reportedRange, size, _) = error else { return false }
                return reported == file && reportedRange == range && size == 1000
            }
        }
        c.equal(try backend.read(file).count, 1000, "file intact after invalid reads")
    }

    /// read, ranged read and stat of a missing file throw notFound for that file; deleting it succeeds.
    static func missingFileIsNotFound(_ backend: any Backend, _ c: Context) throws {
        for kind in FileKind.allCases {
            let file = kind == .config ? FileName.config : FileName(kind, fileName(5))
            c.expectNotFound(file, "read \(file)", try backend.read(file))
            c.expectNotFound(file, "ranged read \(file)", try backend.read(file, range: 0..<1))
            c.expectNotFound(file, "stat \(file)", try backend.stat(file))
            c.noThrow("delete of the missing \(file)") { try backend.delete(file) }
            c.equal(try backend.exists(file), false, "exists \(file)")
        }
        // A missing file next to an existing one (same folder, same data prefix).
        let present = FileName(.data, "ab" + fileName(6).dropFirst(2))
        let absent = FileName(.data, "ab" + fileName(7).dropFirst(2))
        try backend.write(present, data: [1])
        c.expectNotFound(absent, "read of a missing neighbour", try backend.read(absent))
        c.noThrow("delete of a missing neighbour") { try backend.delete(absent) }
        c.equal(try backend.read(present), [1], "the neighbour is untouched")
    }

    /// list returns each written file of the kind exactly once, with its size, and nothing of other kinds.
    static func listReturnsExactlyEachKind(_ backend: any Backend, _ c: Context) throws {
        for kind in FileKind.allCases {
            c.equal(try backend.list(kind), [], "list(\(kind)) of an empty backend")
        }
        var expected: [FileKind: Set<FileInfo>] = [:]
        var seed: UInt64 = 100
        func add(_ file: FileName, size: Int) throws {
            seed += 1
            try backend.write(file, data: seededBytes(count: size, seed: seed))
            expected[file.kind, default: []].insert(FileInfo(file: file, size: size))
        }
        try add(.config, size: 10)
        for i in 0..<3 { try add(FileName(.keys, fileName(10 + i)), size: 100 + i) }
        // Two data files share their first two digits; one has another prefix.
        try add(FileName(.data, "00" + fileName(20).dropFirst(2)), size: 1)
        try add(FileName(.data, "00" + fileName(21).dropFirst(2)), size: 2)
        try add(FileName(.data, "ff" + fileName(22).dropFirst(2)), size: 3)
        try add(FileName(.index, fileName(30)), size: 0)
        for i in 0..<2 { try add(FileName(.snapshots, fileName(40 + i)), size: 50) }
        try add(FileName(.locks, fileName(50)), size: 7)
        for kind in FileKind.allCases {
            let listed = try backend.list(kind)
            c.equal(Set(listed), expected[kind] ?? [], "list(\(kind))")
            c.equal(listed.count, Set(listed).count, "list(\(kind)) has no duplicates")
        }
        // Several kinds at once give what each listing gives, and only the kinds asked for,
        // whether the provider lists them together or one by one.
        for kinds: [FileKind] in [[.locks, .snapshots, .index], [.locks, .snapshots, .index, .data], [.data, .locks], [.snapshots]] {
            let listing = try backend.list(kinds: kinds)
            c.equal(Set(listing.files.keys), Set(kinds), "list(kinds: \(kinds)) answers each kind")
            for kind in kinds {
                c.equal(Set(listing[kind]), expected[kind] ?? [], "list(kinds: \(kinds))[\(kind)]")
                c.equal(listing[kind].count, Set(listing[kind]).count, "list(kinds: \(kinds))[\(kind)] has no duplicates")
            }
        }
    }

    /// Writing an existing name again with the same bytes succeeds and leaves one file.
    static func overwriteWithIdenticalContent(_ backend: any Backend, _ c: Context) throws {
        let file = FileName(.data, fileName(60))
        let data = seededBytes(count: 3000, seed: 60)
        try backend.write(file, data: data)
        try backend.write(file, data: data)
        c.equal(try backend.read(file), data, "read after second write")
        c.equal(try backend.list(.data), [FileInfo(file: file, size: 3000)], "list after second write")
    }

    /// delete removes the file from read, stat and list, leaves others, and a second delete succeeds.
    static func deleteRemoves(_ backend: any Backend, _ c: Context) throws {
        let doomed = FileName(.locks, fileName(70))
        let kept = FileName(.locks, fileName(71))
        try backend.write(doomed, data: [1, 2, 3])
        try backend.write(kept, data: [4, 5])
        try backend.delete(doomed)
        c.expectNotFound(doomed, "read after delete", try backend.read(doomed))
        c.expectNotFound(doomed, "stat after delete", try backend.stat(doomed))
        c.equal(try backend.list(.locks), [FileInfo(file: kept, size: 2)], "list after delete")
        c.noThrow("second delete") { try backend.delete(doomed) }
        c.equal(try backend.read(kept), [4, 5], "the other file is untouched")
        try backend.write(doomed, data: [9])
        c.equal(try backend.read(doomed), [9], "writing a deleted name again")

        let pack = FileName(.data, fileName(72))
        try backend.write(pack, data: [1])
        try backend.delete(pack)
        c.equal(try backend.list(.data), [], "list(.data) after deleting the only pack")
    }

    /// The config file is written, read, stat'ed, listed only under .config, and deleted like any other.
    static func configFile(_ backend: any Backend, _ c: Context) throws {
        c.expectNotFound(.config, "read before write", try backend.read(.config))
        c.equal(try backend.list(.config), [], "list(.config) before write")
        let data = seededBytes(count: 321, seed: 80)
        try backend.write(.config, data: data)
        c.equal(try backend.read(.config), data, "read")
        c.equal(try backend.read(.config, range: 320..<321), [data[320]], "last byte")
        c.equal(try backend.stat(.config), FileInfo(file: .config, size: 321), "stat")
        c.equal(try backend.list(.config), [FileInfo(file: .config, size: 321)], "list(.config)")
        for kind in FileKind.allCases where kind != .config {
            c.equal(try backend.list(kind), [], "list(\(kind)) must not show config")
        }
        try backend.write(.config, data: data)
        c.equal(try backend.list(.config).count, 1, "list(.config) after rewrite")
        try backend.delete(.config)
        c.expectNotFound(.config, "read after delete", try backend.read(.config))
        c.equal(try backend.list(.config), [], "list(.config) after delete")
    }

    /// Writes from many threads at once (distinct names, and one name written by several) all land intact.
    static func concurrentWritesAllLand(_ backend: any Backend, _ c: Context) throws {
        let kinds: [FileKind] = [.data, .index, .snapshots, .keys]
        let files = (0..<48).map { FileName(kinds[$0 % kinds.count], fileName(200 + $0)) }
        let contents = files.indices.map { seededBytes(count: 1000 + $0 * 1013, seed: UInt64(200 + $0)) }
        let shared = FileName(.data, fileName(300))
        let sharedContent = seededBytes(count: 70_000, seed: 300)
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: files.count + 8) { i in
            do {
                if i < files.count {
                    try backend.write(files[i], data: contents[i])
                } else {
                    try backend.write(shared, data: sharedContent)
                }
            } catch {
                failures.add("write \(i): \(error)")
            }
        }
        c.none(failures, "concurrent writes")
        for kind in kinds {
            var expected = Set(files.indices.filter { files[$0].kind == kind }
                .map { FileInfo(file: files[$0], size: contents[$0].count) })
            if kind == .data { expected.insert(FileInfo(file: shared, size: sharedContent.count)) }
            c.equal(Set(try backend.list(kind)), expected, "list(\(kind)) after concurrent writes")
            c.equal(try backend.list(kind).count, expected.count, "list(\(kind)) has no duplicates")
        }
        for i in files.indices {
            c.equal(try backend.read(files[i]), contents[i], "content of \(files[i])")
        }
        c.equal(try backend.read(shared), sharedContent, "content of the file written by several threads")
    }

    /// Atomic writes: readers running during writes see a whole file or notFound, never a prefix,
    /// and list never shows a temporary or partial file.
    static func concurrentReadersSeeWholeFilesOnly(_ backend: any Backend, _ c: Context) throws {
        let files = (0..<4).map { FileName(.data, fileName(400 + $0)) }
        let contents = files.indices.map { seededBytes(count: (2 << 20) + $0, seed: UInt64(400 + $0)) }
        let expected = Dictionary(uniqueKeysWithValues: files.indices.map { (files[$0].name, contents[$0].count) })
        let failures = Failures()
        let done = Flag()
        DispatchQueue.concurrentPerform(iterations: 3) { worker in
            if worker == 0 {
                for i in files.indices {
                    do { try backend.write(files[i], data: contents[i]) } catch { failures.add("write: \(error)") }
                }
                done.set()
                return
            }
            // Poll until the writer is finished, then look once more so every file is seen at least once.
            var finalPass = false
            while !finalPass {
                finalPass = done.isSet
                do {
                    for info in try backend.list(.data) where expected[info.file.name] != info.size {
                        failures.add("list showed \(info.file.name) with \(info.size) bytes")
                    }
                } catch {
                    failures.add("list: \(error)")
                }
                for i in files.indices {
                    if worker == 1 {
                        do {
                            let size = try backend.stat(files[i]).size
                            if size != contents[i].count { failures.add("stat saw \(size) of \(contents[i].count) bytes") }
                        } catch StorageError.notFound {
                        } catch {
                            failures.add("stat: \(error)")
                        }
                    } else {
                        do {
                            let read = try backend.read(files[i])
                            if !sameBytes(read, contents[i]) { failures.add("read saw \(read.count) of \(contents[i].count) bytes, or other bytes") }
                        } catch StorageError.notFound {
                        } catch {
                            failures.add("read: \(error)")
                        }
                    }
                }
            }
        }
        c.none(failures, "readers during writes")
        c.equal(try backend.list(.data).count, files.count, "all files listed at the end")
    }

    /// A large file (20 MiB by default) round-trips whole and by range.
    static func largeFileRoundTrip(_ backend: any Backend, _ c: Context) throws {
        let size = c.largeFileSize
        let file = FileName(.data, fileName(500))
        let data = seededBytes(count: size, seed: 500)
        try backend.write(file, data: data)
        c.equal(try backend.stat(file).size, size, "stat")
        let read = try backend.read(file)
        c.check(sameBytes(read, data), "whole read of \(size) bytes differs (got \(read.count) bytes)")
        let tail = max(0, size - (1 << 20))..<size
        c.check(sameBytes(try backend.read(file, range: tail), Array(data[tail])), "read of the last MiB differs")
        if size > 0 {
            c.equal(try backend.read(file, range: size - 1..<size), [data[size - 1]], "last byte")
        }
    }

    /// A file staged in pieces (some of them 1-byte, crossing MiB boundaries) is stored
    /// byte for byte by `write(_:staged:)` and `writeMetadata(_:staged:)`, listed with its
    /// size, and replaced by a second staged write under the same name.
    static func stagedWritesStoreTheStagedBytes(_ backend: any Backend, _ c: Context) throws {
        let data = seededBytes(count: (3 << 20) + 12345, seed: 600)
        func staged(_ bytes: [UInt8]) throws -> StagedFile {
            let file = try backend.makeStagedFile()
            var offset = 0
            for piece in [1, 1 << 20, 1, 700_000] + [Int](repeating: 1 << 20, count: 3) where offset < bytes.count {
                let end = min(bytes.count, offset + piece)
                try file.append(Array(bytes[offset..<end]))
                offset = end
            }
            try file.append(Array(bytes[offset...]))
            c.equal(file.size, bytes.count, "staged size")
            return file
        }
        let pack = FileName(.data, fileName(600)), metadata = FileName(.data, fileName(601))
        try backend.write(pack, staged: try staged(data))
        try backend.writeMetadata(metadata, staged: try staged(Array(data.prefix(5000))))
        c.check(sameBytes(try backend.read(pack), data), "staged write read back differs")
        c.equal(try backend.read(metadata), Array(data.prefix(5000)), "staged metadata write")
        c.equal(Set(try backend.list(.data).map(\.size)), [data.count, 5000], "listed sizes")
        try backend.write(pack, staged: try staged(data))
        c.check(sameBytes(try backend.read(pack), data), "second staged write under the same name")
    }

    // MARK: - Helpers

    /// A 64-hex-digit file name derived from `n`, distinct for distinct `n`.
    public static func fileName(_ n: Int) -> String {
        var generator = SplitMix64(seed: UInt64(n) &* 0x1000_0001)
        return RawID(w0: generator.next(), w1: generator.next(), w2: generator.next(), w3: UInt64(n)).hex
    }
}

/// Reports failures of one check against one backend at the caller's source location.
struct Context {
    let check: String
    let location: String
    let largeFileSize: Int
    let file: StaticString
    let line: UInt

    private func message(_ text: String) -> String { "[\(check) on \(location)] \(text)" }

    func check(_ condition: @autoclosure () throws -> Bool, _ text: String) {
        do {
            if try !condition() { XCTFail(message(text), file: file, line: line) }
        } catch {
            XCTFail(message("\(text): unexpected error \(error)"), file: file, line: line)
        }
    }

    func equal<T: Equatable>(_ actual: @autoclosure () throws -> T, _ expected: T, _ text: String) {
        do {
            let value = try actual()
            if value != expected {
                XCTFail(message("\(text): got \(Self.short(value)), expected \(Self.short(expected))"), file: file, line: line)
            }
        } catch {
            XCTFail(message("\(text): unexpected error \(error)"), file: file, line: line)
        }
    }

    /// Expects `body` to succeed.
    func noThrow(_ text: String, _ body: () throws -> Void) {
        do { try body() } catch { XCTFail(message("\(text): unexpected error \(error)"), file: file, line: line) }
    }

    /// Expects `body` to throw a `StorageError` that `matches` accepts.
    func expectError<T>(_ text: String, _ body: @autoclosure () throws -> T, matches: (StorageError) -> Bool) {
        do {
            _ = try body()
            XCTFail(message("\(text): succeeded, expected an error"), file: file, line: line)
        } catch let error as StorageError {
            if !matches(error) { XCTFail(message("\(text): wrong error \(error)"), file: file, line: line) }
        } catch {
            XCTFail(message("\(text): not a StorageError: \(error)"), file: file, line: line)
        }
    }

    /// Expects `body` to throw `StorageError.notFound` naming `expected`.
    func expectNotFound<T>(_ expected: FileName, _ text: String, _ body: @autoclosure () throws -> T) {
        expectError(text, try body()) { error in
            guard case let .notFound(reported, _) = error else { return false }
            return reported == expected
        }
    }

    func none(_ failures: Failures, _ text: String) {
        let all = failures.all
        if !all.isEmpty {
            XCTFail(message("\(text): \(all.count) failures, first: \(all.prefix(3).joined(separator: "; "))"),
                    file: file, line: line)
        }
    }

    private static func short<T>(_ value: T) -> String {
        let text = String(describing: value)
        return text.count > 300 ? String(text.prefix(300)) + "…" : text
    }
}

/// Failure messages collected from worker threads.
final class Failures: Sendable {
    private let messages = Mutex<[String]>([])
    func add(_ message: String) { messages.withLock { $0.append(message) } }
    var all: [String] { messages.withLock { $0 } }
}

/// A flag one thread sets and others poll.
final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .releasing) }
    var isSet: Bool { value.load(ordering: .acquiring) }
}
