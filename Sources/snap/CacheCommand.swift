import ArgumentParser
import Foundation
import SnapComposition

/// restic's `cache`: lists the cache folders of this machine's repositories (docs/cache.md),
/// and with `--cleanup` removes those unused for `--max-age` days. Commands already remove
/// folders unused for 30 days when they open their cache; this is for doing it now, or sooner.
struct CacheCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "List this machine's cache folders, one a repository, or remove old ones.",
        discussion: """
        Lists the folders in the cache root (--cache-dir, else $SNAP_CACHE_DIR, else $XDG_CACHE_HOME/snap \
        or ~/.cache/snap): the repository each is for, when a command last used it, whether it is old, and \
        its size. No repository is opened. Commands remove folders unused for 30 days on their own.
        """)

    @OptionGroup(title: "Global options") var global: GlobalOptions

    @Flag(help: "Remove the folders unused for --max-age days.")
    var cleanup = false

    @Option(name: .customLong("max-age"), help: ArgumentHelp("A folder unused for this many days is old.", valueName: "days"))
    var maxAge = CacheLocation.staleAfterDays

    @Flag(name: .customLong("no-size"), help: "Do not add up the folders' sizes (faster for large caches).")
    var noSize = false

    func validate() throws {
        guard maxAge >= 0 else { throw ValidationError("--max-age \(maxAge) is not a number of days (0 or more)") }
    }

    func run() throws {
        try reportingErrors {
            guard !global.noCache else { throw CLIError("the cache is turned off (--no-cache): nothing to list or remove") }
            guard let root = CacheLocation.listedRoot(explicit: global.cacheDirectory, environment: global.environment) else {
                throw CLIError("no cache folder: HOME is not set; give --cache-dir or set SNAP_CACHE_DIR")
            }
            let now = Date()
            if cleanup {
                let old = try listed(root).filter { isOld($0, now: now) }
                let removed = Set(CacheLocation.removeStale(in: root, now: now, days: maxAge))
                let freed = old.filter { removed.contains($0.repositoryID) }.compactMap(\.size).reduce(0, +)
                if global.json {
                    try Output.json(CleanupJSON(removed: removed.sorted(), bytesFreed: noSize ? nil : freed))
                } else if !global.quiet {
                    Output.line("removed \(Self.folders(removed.count)) unused for \(maxAge) days from \(root)" + (noSize ? "" : " (\(Output.bytes(freed)))"))
                }
                let left = old.filter { !removed.contains($0.repositoryID) }.map { "\(root)/\($0.repositoryID)" }
                if !left.isEmpty {
                    throw CLIError("cannot remove \(left.count == 1 ? "the old cache folder" : "\(left.count) old cache folders"): \(left.joined(separator: ", "))")
                }
                return
            }
            let folders = try listed(root)
            if global.json {
                try Output.json(folders.map { FolderJSON($0, old: isOld($0, now: now)) })
                return
            }
            guard !folders.isEmpty else {
                Output.line("no cache folders in \(root)")
                return
            }
            Output.line("repository ID" + String(repeating: " ", count: 53) + "last used      old" + (noSize ? "" : "  size"))
            for folder in folders {
                let age = Self.age(now.timeIntervalSince(folder.lastUsed))
                let size = noSize ? "" : "  " + (folder.size.map(Output.bytes) ?? "? (cannot be read)")
                let line = "\(folder.repositoryID)  \(age.padding(toLength: 13, withPad: " ", startingAt: 0))  "
                    + (isOld(folder, now: now) ? "yes" : "   ") + size
                Output.line(String(line.reversed().drop { $0 == " " }.reversed()))
            }
            Output.line("\(Self.folders(folders.count)) in \(root)")
        }
    }

    /// The root's folders; a root that cannot be listed is an error, not an empty cache.
    private func listed(_ root: String) throws -> [CacheLocation.Folder] {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: root, isDirectory: &isFolder), !isFolder.boolValue {
            throw CLIError("cannot list the cache folder \(root): it is not a folder")
        }
        do { return try CacheLocation.folders(in: root, countingSize: !noSize) } catch {
            throw CLIError("cannot list the cache folder \(root): \(ErrorText.of(error))")
        }
    }

    private func isOld(_ folder: CacheLocation.Folder, now: Date) -> Bool {
        now.timeIntervalSince(folder.lastUsed) > Double(maxAge) * 86_400
    }

    static func folders(_ count: Int) -> String { count == 1 ? "1 cache folder" : "\(count) cache folders" }

    /// "today", "1 day ago", "12 days ago".
    static func age(_ seconds: TimeInterval) -> String {
        let days = Int(max(0, seconds) / 86_400)
        return days == 0 ? "today" : days == 1 ? "1 day ago" : "\(days) days ago"
    }

    private struct FolderJSON: Encodable {
        let repository_id: String
        let last_used: String
        let old: Bool
        let size: UInt64?

        init(_ folder: CacheLocation.Folder, old: Bool) {
            repository_id = folder.repositoryID
            last_used = ISO8601DateFormatter().string(from: folder.lastUsed)
            self.old = old
            size = folder.size
        }
    }

    private struct CleanupJSON: Encodable {
        let removed: [String]
        let bytesFreed: UInt64?

        enum CodingKeys: String, CodingKey { case removed, bytesFreed = "bytes_freed" }
    }
}
