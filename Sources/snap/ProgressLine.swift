import Dispatch
import Foundation
import SnapEngine
import Synchronization

/// Redraws one status line on the terminal while a backup runs.
final class ProgressLine: Sendable {
    private let progress: BackupProgress
    private let stopped = Mutex(false)
    private let finished = DispatchSemaphore(value: 0)
    private let started = Date()

    init(progress: BackupProgress) {
        self.progress = progress
        Thread.detachNewThread { [self] in
            while !stopped.withLock({ $0 }) {
                usleep(250_000)
                draw()
            }
            finished.signal()
        }
    }

    /// Stops redrawing and clears the line.
    func stop() {
        stopped.withLock { $0 = true }
        finished.wait()
        FileHandle.standardOutput.write(Data("\r\u{1b}[2K".utf8))
    }

    private func draw() {
        let c = progress.snapshot
        let elapsed = Date().timeIntervalSince(started)
        let rate = elapsed > 0 ? Double(c.bytes) / elapsed : 0
        var text = "[\(Output.duration(elapsed))] \(c.files)"
        text += c.scanFinished ? "/\(c.totalFiles) files" : " files"
        text += " \(Output.bytes(c.bytes))"
        if c.scanFinished && c.totalBytes > 0 {
            text += "/\(Output.bytes(c.totalBytes)) \(min(100, Int(Double(c.bytes) * 100 / Double(c.totalBytes))))%"
        }
        text += ", \(Output.bytes(UInt64(rate)))/s"
        if c.scanFinished, rate > 0, c.totalBytes > c.bytes {
            text += ", ETA \(Output.duration(Double(c.totalBytes - c.bytes) / rate))"
        }
        let width = 100
        if text.count < width - 4 && !c.currentPath.isEmpty {
            let room = width - text.count - 2
            let path = c.currentPath.count > room ? "…" + c.currentPath.suffix(room - 1) : c.currentPath
            text += "  " + path
        }
        FileHandle.standardOutput.write(Data(("\r\u{1b}[2K" + text).utf8))
    }
}
