import Foundation
import SnapCore
import SnapEngine

/// What `snap restore` prints: the closing line of an incomplete restore, the progress
/// line, and its JSON messages (docs/json.md).
extension RestoreCommand {
    /// The one line that ends an incomplete restore, keeping the target's failures apart
    /// from damage in the repository.
    static func failureLine(_ result: RestoreResult) -> String {
        var repository: [String] = []
        if result.damagedFiles > 0 {
            var line = "\(result.damagedFiles) files have damaged or missing data in the repository"
            if !result.unreadablePacks.isEmpty {
                let packs = result.unreadablePacks.count == 1 ? "1 pack" : "\(result.unreadablePacks.count) packs"
                line = "\(result.damagedFiles) files have data the repository could not give (\(packs) could not be read; "
                    + "once they can be, restore again: files restored with holes are filled in)"
            }
            repository.append(line)
        }
        if !result.unreadableFolders.isEmpty {
            repository.append("\(result.unreadableFolders.count) folders could not be read from the repository")
        }
        if let stop = result.stopped {
            let tail = repository.isEmpty ? "nothing in the repository is damaged" : repository.joined(separator: ", ") + " (named above)"
            return "restore stopped: \(stop); \(tail)"
        }
        var parts: [String] = []
        if !result.unwritten.isEmpty { parts.append("\(result.unwritten.count) files could not be written to the target (none left partly written)") }
        if !result.errors.isEmpty { parts.append("\(result.errors.count) entries could not be created or given their metadata in the target") }
        if !result.verifyFailures.isEmpty {
            parts.append("\(result.verifyFailures.count) files differ from the snapshot when read back")
        }
        return "restore incomplete: " + (parts + repository).joined(separator: ", ") + " (named above)"
    }

    static func statusText(_ c: RestoreProgress.Counts, elapsed: Double) -> String {
        var text = "[\(Output.duration(elapsed))] \(c.filesRestored + c.filesSkipped)/\(c.totalFiles) files, \(Output.bytes(c.bytesRestored + c.bytesSkipped))/\(Output.bytes(c.totalBytes))"
        if c.totalBytes > 0 { text += " \(min(100, Int(Double(c.bytesRestored + c.bytesSkipped) * 100 / Double(c.totalBytes))))%" }
        if elapsed > 0 { text += ", \(Output.bytes(UInt64(Double(c.bytesRestored) / elapsed)))/s" }
        if c.filesDeleted > 0 { text += ", \(c.filesDeleted) deleted" }
        return text
    }

    /// restic's restore `status` message; its fields also open the `summary` (docs/json.md).
    struct RestoreStatusJSON: Encodable {
        let messageType = "status"
        let secondsElapsed: Int
        let percentDone: Double
        let totalFiles: Int
        let filesRestored: Int
        let filesSkipped: Int
        let filesDeleted: Int
        let totalBytes: UInt64
        let bytesRestored: UInt64
        let bytesSkipped: UInt64

        init(_ c: RestoreProgress.Counts, elapsed: Double) {
            secondsElapsed = Int(elapsed)
            percentDone = c.totalBytes > 0 ? min(1, Double(c.bytesRestored + c.bytesSkipped) / Double(c.totalBytes))
                : c.totalFiles > 0 ? min(1, Double(c.filesRestored + c.filesSkipped) / Double(c.totalFiles)) : 0
            (totalFiles, filesRestored, filesSkipped, filesDeleted) = (c.totalFiles, c.filesRestored, c.filesSkipped, c.filesDeleted)
            (totalBytes, bytesRestored, bytesSkipped) = (c.totalBytes, c.bytesRestored, c.bytesSkipped)
        }

        enum CodingKeys: String, CodingKey {
            case messageType = "message_type", secondsElapsed = "seconds_elapsed", percentDone = "percent_done"
            case totalFiles = "total_files", filesRestored = "files_restored", filesSkipped = "files_skipped"
            case filesDeleted = "files_deleted", totalBytes = "total_bytes", bytesRestored = "bytes_restored", bytesSkipped = "bytes_skipped"
        }
    }

    /// restic's `verbose_status` line for one entry, with its newline (keys in byte order,
    /// as `JSONEncoder` sorts them; a line per entry, so not through `JSONEncoder`).
    static func verboseJSON(action: String, item: String, size: UInt64) -> [UInt8] {
        var o = JSONObjectWriter(capacity: 160)
        o.field("action", action)
        o.field("item", item)
        o.field("message_type", "verbose_status")
        o.field("size", size)
        return o.finished() + [UInt8(ascii: "\n")]
    }

    /// snap's own fields of the `summary`, which follow restic's counts (`RestoreStatusJSON`'s).
    struct RestoreJSON: Encodable {
        struct Damaged: Encodable { let blob: String; let reason: String; let files: [String] }
        let snapshot: String
        let complete: Bool
        let dryRun: Bool
        /// Why the restore stopped early (the target cannot take more), or nil.
        let stopped: String?
        let files: Int
        let directories: Int
        let otherEntries: Int
        let bytes: UInt64
        /// Of `files` and `otherEntries`, those that replaced an existing entry.
        let updated: Int
        /// Existing entries that already had the snapshot's content (metadata set).
        let unchanged: Int
        /// Existing entries left alone because of --overwrite.
        let skipped: Int
        let deleted: Int
        /// Files read back with --verify; absent without it.
        let verified: Int?
        /// Entries that could not be created or given their metadata in the target.
        let errors: [String]
        /// Files that could not be written completely to the target, and were removed.
        let unwritten: [String]
        let unreadableFolders: [String]
        /// Files that differ from the snapshot when read back (--verify).
        let verifyFailures: [String]
        let damaged: [Damaged]

        enum CodingKeys: String, CodingKey {
            case snapshot, complete, stopped, files, directories, bytes, errors, unwritten
            case dryRun = "dry_run"
            case otherEntries = "other_entries"
            case updated, unchanged, skipped, deleted, verified
            case unreadableFolders = "unreadable_folders"
            case verifyFailures = "verify_failures"
            case damaged
        }
    }
}
