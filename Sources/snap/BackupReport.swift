import Foundation
import SnapCore
import SnapEngine
import Synchronization

/// Everything a backup prints while it runs and when it ends: the live progress line (or
/// JSON `status` messages), `-v`/`-vv` listings (or `verbose_status`), warnings (or JSON
/// `error` messages on standard error), and the summary. docs/json.md lists the messages.
final class BackupReport: Sendable {
    private let json: Bool
    private let quiet: Bool
    private let verbosity: Int
    private let interval: Double?
    private let started = Date()
    private let startedText = WallClock.nowText
    let progress: BackupProgress
    private let ticker = Mutex<StatusLine?>(nil)

    private let options: GlobalOptions

    init(global: GlobalOptions) {
        options = global
        json = global.json
        quiet = global.quiet
        verbosity = global.quiet ? 0 : global.verbosity
        interval = global.progressInterval
        let (listJSON, level) = (global.json, verbosity)
        var observe: (@Sendable (BackupProgress.Item) -> Void)?
        if level > 0 { observe = { item in Self.list(item, json: listJSON, verbosity: level) } }
        progress = BackupProgress(observe: observe)
    }

    /// Whether a scan for totals is worth running: someone sees the progress.
    var showsProgress: Bool { !quiet && (json || interval != nil || Output.stdoutIsTerminal) }

    /// Starts the progress display (`StatusLine.start`).
    func start() {
        guard showsProgress else { return }
        let progress = progress
        let line = StatusLine.start(global: options, text: { elapsed in StatusLine.backupText(progress.snapshot, elapsed: elapsed) },
                                    json: { elapsed in Self.statusJSON(progress.snapshot, elapsed: elapsed) })
        ticker.withLock { $0 = line }
    }

    func stop() { ticker.withLock { $0?.stop(); $0 = nil } }

    /// An entry that could not be read.
    func warn(_ warning: BackupWarning) {
        if json {
            Output.jsonError(ErrorMessageJSON(error: .init(message: warning.message), during: "archival", item: PathBytes.jsonText(warning.path)))
        } else {
            Output.error("warning: \(warning)")
        }
    }

    /// Any other message for the user.
    func message(_ text: String) {
        Output.error(json ? text : "warning: \(text)")
    }

    private static func list(_ item: BackupProgress.Item, json: Bool, verbosity: Int) {
        guard item.action != .unchanged || verbosity >= 2 else { return }
        let slash = item.isDirectory ? "/" : ""
        if json {
            // Exact for UTF-8 names, control characters included (JSON escapes them).
            Output.write(verboseJSON(action: item.action.rawValue, item: PathBytes.jsonText(item.path) + slash, dataSize: item.size, dataAdded: item.added))
        } else {
            let path = PathBytes.display(item.path) + slash
            let action = item.action == .unchanged ? "unchanged" : item.action.rawValue
            // A new or modified file also says what it added, as restic's lines do (`(9 KiB added)`).
            let sizes = item.isDirectory ? "" : item.action == .unchanged ? " (\(Output.bytes(item.size)))"
                : " (\(Output.bytes(item.size)), \(Output.bytes(item.added)) added)"
            Output.line(action.padding(toLength: 10, withPad: " ", startingAt: 0) + path + sizes)
        }
    }

    private static func statusJSON(_ c: BackupProgress.Counts, elapsed: Double) -> String {
        let fraction = c.scanFinished && c.totalBytes > 0 ? min(1, Double(c.bytes) / Double(c.totalBytes)) : 0
        let rate = elapsed > 0 ? Double(c.bytes) / elapsed : 0
        let remaining = c.scanFinished && rate > 0 && c.totalBytes > c.bytes ? Int(Double(c.totalBytes - c.bytes) / rate) : nil
        let status = StatusJSON(secondsElapsed: Int(elapsed), secondsRemaining: remaining, percentDone: fraction,
                                totalFiles: c.totalFiles, filesDone: c.files, totalBytes: c.totalBytes, bytesDone: c.bytes,
                                errorCount: c.errors, currentFiles: c.currentPath.isEmpty ? [] : [c.currentPath])
        return Output.jsonText(status)
    }

    /// The end: a `summary` message, or the text summary.
    func summary(_ result: BackupResult) throws {
        let s = result.snapshot.summary ?? Snapshot.Summary()
        if json {
            let end = Date()
            try Output.jsonLine(WithRequests(value: SummaryJSON(
                filesNew: s.filesNew, filesChanged: s.filesChanged, filesUnmodified: s.filesUnchanged,
                dirsNew: result.directories.new, dirsChanged: result.directories.changed, dirsUnmodified: result.directories.unchanged,
                dataBlobs: s.dataBlobsAdded, treeBlobs: s.blobsAdded - s.dataBlobsAdded,
                dataAdded: s.bytesAdded, dataAddedPacked: s.bytesStored,
                totalFilesProcessed: s.filesNew + s.filesChanged + s.filesUnchanged, totalBytesProcessed: s.bytesProcessed,
                totalDuration: end.timeIntervalSince(started),
                backupStart: startedText, backupEnd: WallClock.nowText,
                snapshotID: result.state == .dryRun ? nil : result.id.hex, dryRun: result.state == .dryRun,
                snapshotSaved: result.state == .saved, bytesRead: s.bytesRead, errorCount: result.warnings.count)))
            return
        }
        guard !quiet else { return }
        let d = result.directories
        Output.line("Files:       \(s.filesNew) new, \(s.filesChanged) changed, \(s.filesUnchanged) unchanged")
        Output.line("Folders:     \(d.new) new, \(d.changed) changed, \(d.unchanged) unchanged")
        Output.line("Processed:   \(Output.bytes(s.bytesProcessed)) (read \(Output.bytes(s.bytesRead))) in \(Output.duration(s.durationSeconds))")
        let verb = result.state == .dryRun ? "Would add:" : "Added:    "
        Output.line("\(verb)   \(Output.bytes(s.bytesAdded)) in \(s.blobsAdded) blobs, \(Output.bytes(s.bytesStored)) stored")
        if !result.warnings.isEmpty {
            Output.line("Warnings:    \(result.warnings.count) entries could not be read whole (see above); each warning says what the snapshot lacks")
        }
        switch result.state {
        case .saved: Output.line("snapshot \(result.id.short) saved")
        case .unchanged: Output.line("nothing changed since snapshot \(result.id.short): no snapshot saved (--skip-if-unchanged)")
        case .dryRun: Output.line("dry run: nothing was written")
        }
    }

    struct StatusJSON: Encodable {
        let messageType = "status"
        let secondsElapsed: Int
        let secondsRemaining: Int?
        let percentDone: Double
        let totalFiles: Int
        let filesDone: Int
        let totalBytes: UInt64
        let bytesDone: UInt64
        let errorCount: Int
        let currentFiles: [String]
        enum CodingKeys: String, CodingKey {
            case messageType = "message_type", secondsElapsed = "seconds_elapsed", secondsRemaining = "seconds_remaining"
            case percentDone = "percent_done", totalFiles = "total_files", filesDone = "files_done", totalBytes = "total_bytes"
            case bytesDone = "bytes_done", errorCount = "error_count", currentFiles = "current_files"
        }
    }

    /// restic's `verbose_status` line for one entry, with its newline (keys in byte order, as
    /// `JSONEncoder` sorts them; a line per entry, so not through `JSONEncoder`).
    static func verboseJSON(action: String, item: String, dataSize: UInt64, dataAdded: UInt64) -> [UInt8] {
        var o = JSONObjectWriter(capacity: 160)
        o.field("action", action)
        o.field("data_added", dataAdded)
        o.field("data_size", dataSize)
        o.field("item", item)
        o.field("message_type", "verbose_status")
        return o.finished() + [UInt8(ascii: "\n")]
    }

    struct SummaryJSON: Encodable {
        let messageType = "summary"
        let filesNew: Int, filesChanged: Int, filesUnmodified: Int
        let dirsNew: Int, dirsChanged: Int, dirsUnmodified: Int
        let dataBlobs: Int, treeBlobs: Int
        let dataAdded: UInt64, dataAddedPacked: UInt64
        let totalFilesProcessed: Int, totalBytesProcessed: UInt64
        let totalDuration: Double
        let backupStart: String, backupEnd: String
        let snapshotID: String?
        let dryRun: Bool
        // snap's own
        let snapshotSaved: Bool
        let bytesRead: UInt64
        let errorCount: Int
        enum CodingKeys: String, CodingKey {
            case messageType = "message_type", filesNew = "files_new", filesChanged = "files_changed", filesUnmodified = "files_unmodified"
            case dirsNew = "dirs_new", dirsChanged = "dirs_changed", dirsUnmodified = "dirs_unmodified"
            case dataBlobs = "data_blobs", treeBlobs = "tree_blobs", dataAdded = "data_added", dataAddedPacked = "data_added_packed"
            case totalFilesProcessed = "total_files_processed", totalBytesProcessed = "total_bytes_processed"
            case totalDuration = "total_duration", backupStart = "backup_start", backupEnd = "backup_end"
            case snapshotID = "snapshot_id", dryRun = "dry_run", snapshotSaved = "snapshot_saved", bytesRead = "bytes_read", errorCount = "error_count"
        }
    }
}
