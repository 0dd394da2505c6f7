import Dispatch
import Foundation
import SnapEngine
import Synchronization

/// Redraws one status line on the terminal, four times a second, until stopped.
final class StatusLine: Sendable {
    private let stopped = Mutex(false)
    private let finished = DispatchSemaphore(value: 0)

    /// - Parameter render: the line's text, given the seconds since the start.
    init(render: @escaping @Sendable (Double) -> String) {
        let started = Date()
        Thread.detachNewThread { [self] in
            while !stopped.withLock({ $0 }) {
                usleep(250_000)
                let text = render(Date().timeIntervalSince(started))
                FileHandle.standardOutput.write(Data(("\r\u{1b}[2K" + text).utf8))
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

    /// The status line of a running backup: files, bytes, percentage, rate and ETA.
    static func backup(_ progress: BackupProgress) -> StatusLine {
        StatusLine { elapsed in
            let c = progress.snapshot
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
            return text
        }
    }

    /// The status line of a running check or repair: phase and counts.
    static func check(_ progress: CheckProgress) -> StatusLine {
        StatusLine { elapsed in
            let c = progress.snapshot
            var text = "[\(Output.duration(elapsed))] \(c.phase.rawValue)"
            let packs = "\(c.packsRead)/\(c.packTotal), \(Output.bytes(c.bytes))"
            if c.phase == .readData { return text + " " + packs }
            if c.total > 0 { text += " \(c.done)/\(c.total)" } else if c.done > 0 { text += " \(c.done)" }
            if c.packTotal > 0 { text += "; reading packs \(packs)" }
            return text
        }
    }
}
