import CFuzzDriver
import Foundation

// libFuzzer's entry points. One binary holds every target; `SNAP_FUZZ_TARGET` picks one
// (scripts/fuzz.sh sets it). With `SNAP_FUZZ_EXTRACT=REPO:OUT` (and `SNAP_PASSWORD`) the
// binary instead writes seed corpora from a real repository and exits (scripts/fuzz-seeds.sh).

/// The target chosen at start-up; set once, before libFuzzer calls `testOneInput` (on one thread).
nonisolated(unsafe) private var selected: FuzzTarget?

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<CInt>?,
                             _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> CInt {
    let environment = ProcessInfo.processInfo.environment
    if let extract = environment["SNAP_FUZZ_EXTRACT"] {
        do {
            try SeedExtractor.run(spec: extract, password: environment["SNAP_PASSWORD"] ?? "")
            exit(0)
        } catch {
            FileHandle.standardError.write(Data("seed extraction failed: \(error)\n".utf8))
            exit(1)
        }
    }
    guard let name = environment["SNAP_FUZZ_TARGET"], let target = FuzzTarget(rawValue: name) else {
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: " ")
        FileHandle.standardError.write(Data("set SNAP_FUZZ_TARGET to one of: \(names)\n".utf8))
        exit(2)
    }
    selected = target
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size > 0 ? Array(UnsafeBufferPointer(start: data, count: size)) : []
    selected?.run(bytes)
    return 0
}

/// The process's entry point: SwiftPM links `main` to `SnapFuzz_main`, so libFuzzer's own
/// `main` is not linked in and its driver is started from here.
@_cdecl("SnapFuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    snap_fuzz_run(argc, argv)
}
