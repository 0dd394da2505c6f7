import Foundation

/// A running `snap ARGS` whose standard output and error are gathered as they come.
final class RunningSnap: @unchecked Sendable {
    let process = Process()
    private let lock = NSLock()
    private var out = Data(), err = Data()
    var stdout: String { lock.withLock { String(decoding: out, as: UTF8.self) } }
    var stderr: String { lock.withLock { String(decoding: err, as: UTF8.self) } }

    init(_ arguments: [String], environment: [String: String], input: Pipe? = nil) throws {
        process.executableURL = URL(fileURLWithPath: SnapProcess.binary)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SNAP_") }.merging(environment) { $1 }
        process.standardInput = input ?? FileHandle.nullDevice
        let outPipe = Pipe(), errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        outPipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            self?.lock.withLock { self?.out.append(data) }
        }
        errPipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            self?.lock.withLock { self?.err.append(data) }
        }
        try process.run()
    }

    /// Waits up to `seconds` for `condition`; whether it held.
    func wait(_ seconds: Double, until condition: () -> Bool) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while !condition() && Date() < end { usleep(20_000) }
        return condition()
    }

    /// Waits for the process's end and the last of its output.
    func finish() {
        process.waitUntilExit()
        usleep(200_000)
    }
}
