import Dispatch
import Foundation
import SnapEngine
import Synchronization

/// Redraws one status line on the terminal, four times a second, until stopped; or, for
/// logs and programs, prints a new line every so often.
final class StatusLine: Sendable {
    private let stopped = Mutex(false)
    private let finished = DispatchSemaphore(value: 0)
    private let redraw: Bool
    /// Standard output or standard error.
    private let output: Int32

    /// - Parameters:
    ///   - interval: seconds between updates.
    ///   - redraw: redraw one line in place (a terminal), or print each as a line of its own.
    ///   - render: the line's text, given the seconds since the start.
    init(every interval: Double = 0.25, redraw: Bool = true, output: Int32 = STDOUT_FILENO,
         render: @escaping @Sendable (Double) -> String) {
        self.redraw = redraw
        self.output = output
        let started = Date()
        Thread.detachNewThread { [self] in
            var next = interval
            while !stopped.withLock({ $0 }) {
                usleep(50_000)
                let elapsed = Date().timeIntervalSince(started)
                guard elapsed >= next else { continue }
                next = elapsed + interval
                let text = render(elapsed)
                StandardStreams.write(redraw ? "\r\u{1b}[2K" + text : text + "\n", to: output)
            }
            finished.signal()
        }
    }

    /// Clears a redrawn line, so that a line of output can be printed in its place (the next
    /// update draws it again below).
    func clear() {
        if redraw { StandardStreams.write("\r\u{1b}[2K", to: output) }
    }

    /// Stops updating and clears a redrawn line; a second call does nothing.
    func stop() {
        let wasStopped = stopped.withLock { s in
            defer { s = true }
            return s
        }
        guard !wasStopped else { return }
        finished.wait()
        if redraw { StandardStreams.write("\r\u{1b}[2K", to: output) }
    }

    /// Files, bytes, percentage, rate, ETA and the file being read.
    static func backupText(_ c: BackupProgress.Counts, elapsed: Double) -> String {
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
        if c.errors > 0 { text += ", \(c.errors) errors" }
        let width = 100
        if text.count < width - 4 && !c.currentPath.isEmpty {
            let room = width - text.count - 2
            let path = c.currentPath.count > room ? "…" + c.currentPath.suffix(room - 1) : c.currentPath
            text += "  " + path
        }
        return text
    }

    /// The progress of a running check or repair: phase and counts.
    static func check(_ progress: CheckProgress, global: GlobalOptions) -> StatusLine? {
        start(global: global, text: { elapsed in checkText(progress.snapshot, elapsed: elapsed) }, json: { elapsed in
            let c = progress.snapshot
            var task = TaskProgress.Counts()
            task.phase = c.phase.rawValue
            (task.done, task.total) = c.phase == .readData ? (c.packsRead, c.packTotal) : (c.done, c.total)
            task.bytes = c.bytes
            return Output.jsonText(TaskStatusJSON(task, elapsed: elapsed))
        })
    }

    static func checkText(_ c: CheckProgress.Counts, elapsed: Double) -> String {
        var text = "[\(Output.duration(elapsed))] \(c.again ? "found a problem; checking again under a lock: " : "")\(c.phase.rawValue)"
        let packs = "\(c.packsRead)/\(c.packTotal), \(Output.bytes(c.bytes))"
        if c.phase == .readData { return text + " " + packs }
        if c.total > 0 { text += " \(c.done)/\(c.total)" } else if c.done > 0 { text += " \(c.done)" }
        if c.packTotal > 0 { text += "; reading packs \(packs)" }
        return text
    }
}

extension StatusLine {
    /// The progress display the options ask for: a line redrawn 4 times a second on a
    /// terminal; with --json a `status` message every second (or --progress-interval);
    /// otherwise a plain line every --progress-interval, if given; `nil` for none (-q).
    static func start(global: GlobalOptions, text: @escaping @Sendable (Double) -> String,
                      json: @escaping @Sendable (Double) -> String) -> StatusLine? {
        guard !global.quiet else { return nil }
        if global.json { return StatusLine(every: global.progressInterval ?? 1, redraw: false, render: json) }
        if let interval = global.progressInterval { return StatusLine(every: interval, redraw: false, render: text) }
        return Output.stdoutIsTerminal ? StatusLine(render: text) : nil
    }

    /// The display of a copy, prune, dump or restore.
    static func task(_ progress: TaskProgress, global: GlobalOptions) -> StatusLine? {
        start(global: global, text: { elapsed in taskText(progress.snapshot, elapsed: elapsed) },
              json: { elapsed in Output.jsonText(TaskStatusJSON(progress.snapshot, elapsed: elapsed)) })
    }

    static func taskText(_ c: TaskProgress.Counts, elapsed: Double) -> String {
        var text = "[\(Output.duration(elapsed))] \(c.phase)"
        if c.total > 0 { text += " \(c.done)/\(c.total)" } else if c.done > 0 { text += " \(c.done)" }
        if c.bytes > 0 || c.totalBytes > 0 {
            text += ", \(Output.bytes(c.bytes))"
            if c.totalBytes > 0 { text += "/\(Output.bytes(c.totalBytes)) \(min(100, Int(Double(c.bytes) * 100 / Double(c.totalBytes))))%" }
            if elapsed > 0 { text += ", \(Output.bytes(UInt64(Double(c.bytes) / elapsed)))/s" }
        }
        return text
    }
}

/// A `status` message of a copy, prune, dump or restore (docs/json.md).
struct TaskStatusJSON: Encodable {
    let messageType = "status"
    let secondsElapsed: Int
    let phase: String
    let itemsDone: Int
    let totalItems: Int
    let bytesDone: UInt64
    let totalBytes: UInt64
    let percentDone: Double

    init(_ c: TaskProgress.Counts, elapsed: Double) {
        secondsElapsed = Int(elapsed)
        phase = c.phase
        itemsDone = c.done
        totalItems = c.total
        bytesDone = c.bytes
        totalBytes = c.totalBytes
        percentDone = c.totalBytes > 0 ? min(1, Double(c.bytes) / Double(c.totalBytes)) : c.total > 0 ? min(1, Double(c.done) / Double(c.total)) : 0
    }

    enum CodingKeys: String, CodingKey {
        case messageType = "message_type", secondsElapsed = "seconds_elapsed", phase, itemsDone = "items_done"
        case totalItems = "total_items", bytesDone = "bytes_done", totalBytes = "total_bytes", percentDone = "percent_done"
    }
}
