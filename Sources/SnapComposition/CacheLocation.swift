import Foundation

/// Where a command keeps its local copies of repository metadata (docs/cache.md).
public enum CacheLocation {
    /// The cache folder for a repository kept at `locations`, or `nil` for none.
    ///
    /// `--no-cache` wins; then `--cache-dir`, then `$SNAP_CACHE_DIR`. Without those, a
    /// repository with any replica off this machine uses `$XDG_CACHE_HOME/snap` (else
    /// `~/.cache/snap`), and one kept only on local disks uses none: it is its own cache.
    public static func root(disabled: Bool, explicit: String?, locations: [String],
                            environment env: [String: String]) -> String? {
        if disabled { return nil }
        if let explicit, !explicit.isEmpty { return explicit }
        if let dir = env["SNAP_CACHE_DIR"], !dir.isEmpty { return dir }
        guard locations.contains(where: { !RepositoryLocation.isLocal($0) }) else { return nil }
        return standardRoot(environment: env)
    }

    /// `$XDG_CACHE_HOME/snap`, else `~/.cache/snap`; `nil` without either.
    static func standardRoot(environment env: [String: String]) -> String? {
        if let xdg = env["XDG_CACHE_HOME"], xdg.hasPrefix("/") { return xdg + "/snap" }
        guard let home = env["HOME"], home.hasPrefix("/") else { return nil }
        return home + "/.cache/snap"
    }

    /// The root whose folders `snap cache` lists: `--cache-dir`, else `$SNAP_CACHE_DIR`,
    /// else the standard one, which also holds the blob index tables of repositories on
    /// local disks.
    public static func listedRoot(explicit: String?, environment env: [String: String]) -> String? {
        if let explicit, !explicit.isEmpty { return explicit }
        if let dir = env["SNAP_CACHE_DIR"], !dir.isEmpty { return dir }
        return standardRoot(environment: env)
    }

    /// Where a repository that has no cache (one kept only on local disks) keeps its blob
    /// index's table file: `$XDG_CACHE_HOME/snap` (else `~/.cache/snap`), unless `--no-cache`.
    /// Only the table goes there; no copies of repository files.
    public static func indexRoot(disabled: Bool, environment env: [String: String]) -> String? {
        disabled ? nil : standardRoot(environment: env)
    }

    /// Repositories whose cache was not used for this long lose it (as with restic).
    public static let staleAfterDays = 30

    /// Removes the folders of repositories (named by 64 hex digits) that no command has
    /// used for `staleAfterDays`; a command touches its repository's folder when it opens it.
    /// Likewise the key hints of locations (`key-hints/`, a name and two copies each) that
    /// no command has opened from for as long: a command that opens from one touches it.
    /// And the temporary files of hints whose writer was killed, after an hour. Anything
    /// else in `root` is left alone: only folders are removed from it (only files from
    /// `key-hints/`), never a symlink, and nothing at all from a root that is a repository
    /// or one of its folders (a `--cache-dir` given by mistake).
    ///
    /// With `days`, folders and hints unused for that many days instead; returns the IDs of
    /// the repositories whose folders were removed.
    @discardableResult
    public static func removeStale(in root: String, now: Date, days: Int = staleAfterDays) -> [String] {
        guard !isRepository(root) else { return [] }
        let limit = now.addingTimeInterval(-Double(days) * 86_400)
        var removed: [String] = []
        // A repository named by 64 hex digits kept in the cache root is not a cache folder.
        for name in staleEntries(in: root, before: limit, type: .typeDirectory) where !holdsRepository("\(root)/\(name)") && (try? FileManager.default.removeItem(atPath: "\(root)/\(name)")) != nil {
            removed.append(name)
        }
        let hints = root + "/key-hints"
        for name in staleEntries(in: hints, before: limit, type: .typeRegular) {
            for suffix in ["", ".key", ".config"] { try? FileManager.default.removeItem(atPath: "\(hints)/\(name)\(suffix)") }
        }
        // Foundation's atomic writes stage a hint in `.dat.nosync…` beside it; a command killed
        // meanwhile leaves that file, which nothing reads. One an hour old is nobody's.
        for name in entries(in: hints, before: now.addingTimeInterval(-3600), type: .typeRegular, named: { $0.hasPrefix(".dat.nosync") }) {
            try? FileManager.default.removeItem(atPath: "\(hints)/\(name)")
        }
        return removed
    }

    /// A repository's folder in a cache root, as `snap cache` lists it.
    public struct Folder: Sendable, Equatable {
        /// The repository's ID (its config's `id`), the folder's name.
        public let repositoryID: String
        /// When a command last opened the repository with this cache: the folder's time.
        public let lastUsed: Date
        /// The bytes of the files in it; `nil` when not counted, or when some of it could not
        /// be read (an unreadable folder is not an empty one).
        public let size: UInt64?
    }

    /// The repositories' folders in `root` (named by 64 hex digits), most recently used
    /// first; `countingSize` adds up their files' sizes (a walk of each folder). None when
    /// `root` does not exist.
    /// - Throws: `CocoaError` when `root` exists but cannot be listed (not a folder, no permission).
    public static func folders(in root: String, countingSize: Bool) throws -> [Folder] {
        let fm = FileManager.default
        var isFolder: ObjCBool = false
        guard fm.fileExists(atPath: root, isDirectory: &isFolder) else { return [] }
        let names = try fm.contentsOfDirectory(atPath: root).filter { $0.count == 64 && $0.allSatisfy(\.isHexDigit) }
        return names.compactMap { name -> Folder? in
            let path = "\(root)/\(name)"
            guard let attributes = try? fm.attributesOfItem(atPath: path), attributes[.type] as? FileAttributeType == .typeDirectory,
                  let modified = attributes[.modificationDate] as? Date, !holdsRepository(path) else { return nil }
            return Folder(repositoryID: name, lastUsed: modified, size: countingSize ? bytes(under: path) : nil)
        }.sorted { ($0.lastUsed, $0.repositoryID) > ($1.lastUsed, $1.repositoryID) }
    }

    /// The sizes of the regular files below `path`, added up (symlinks not followed); `nil`
    /// when part of it cannot be read.
    private static func bytes(under path: String) -> UInt64? {
        guard access(path, R_OK | X_OK) == 0 else { return nil }
        var failed = false
        guard let walk = FileManager.default.enumerator(at: URL(fileURLWithPath: path), includingPropertiesForKeys: [.fileSizeKey, .isRegularFileKey],
                                                        options: [], errorHandler: { _, _ in failed = true; return true }) else {
            return nil
        }
        var total: UInt64 = 0
        for case let url as URL in walk {
            guard let values = try? url.resourceValues(forKeys: [.fileSizeKey, .isRegularFileKey]), values.isRegularFile == true else { continue }
            total += UInt64(values.fileSize ?? 0)
        }
        return failed ? nil : total
    }

    /// The entries of `folder` of type `type` (a symlink is never one) named by 64 hex
    /// digits and last modified before `limit`.
    private static func staleEntries(in folder: String, before limit: Date, type: FileAttributeType) -> [String] {
        entries(in: folder, before: limit, type: type, named: { $0.count == 64 && $0.allSatisfy(\.isHexDigit) })
    }

    /// The entries of `folder` of type `type` whose names `named` accepts, last modified
    /// before `limit`. Only that type: a cache root given by mistake as a repository's
    /// `snapshots/` or `keys/` holds files named by 64 hex digits, which are not the cache's.
    private static func entries(in folder: String, before limit: Date, type: FileAttributeType, named: (String) -> Bool) -> [String] {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: folder) else { return [] }
        return names.filter { name in
            guard named(name), let attributes = try? fm.attributesOfItem(atPath: "\(folder)/\(name)"),
                  attributes[.type] as? FileAttributeType == type, let modified = attributes[.modificationDate] as? Date else {
                return false
            }
            return modified < limit
        }
    }

    /// Whether `folder` is a repository or lies inside one (a cache root given by mistake as
    /// `REPO/keys`, `REPO/data/51`, `REPO/keys/.` or a symlink to one): it is not used, and
    /// nothing is removed from it. Symlinks are resolved where the folder exists.
    private static func isRepository(_ folder: String) -> Bool {
        var path = folder.hasPrefix("/") ? folder : FileManager.default.currentDirectoryPath + "/" + folder
        if let real = realpath(path, nil) {
            path = String(cString: real)
            free(real)
        }
        while true {
            if holdsRepository(path) { return true }
            guard path != "/", let slash = path.lastIndex(of: "/") else { return false }
            path = slash == path.startIndex ? "/" : String(path[..<slash])
        }
    }

    /// Whether `path` holds a repository's `config` and `keys`.
    private static func holdsRepository(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: path + "/config") && FileManager.default.fileExists(atPath: path + "/keys")
    }

    /// Creates `root` with a `CACHEDIR.TAG`, so that backup tools that honour the tag
    /// (restic, borg, tar) skip it. Returns `false`, with the reason in `report`, when it cannot.
    public static func prepare(_ root: String, report: (String) -> Void) -> Bool {
        let fm = FileManager.default
        guard !isRepository(root) else {
            report("the cache folder \(root) is a repository or one of its folders; going on without a cache")
            return false
        }
        do {
            if let code = makeFolders(root) {
                report("cannot use the cache folder \(root) (\(String(cString: strerror(code)))); going on without a cache")
                return false
            }
            let tag = root + "/CACHEDIR.TAG"
            if !fm.fileExists(atPath: tag) {
                let text = "Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by snap.\n"
                try Data(text.utf8).write(to: URL(fileURLWithPath: tag), options: .atomic)
            }
            removeStale(in: root, now: Date())
            return true
        } catch {
            report("cannot use the cache folder \(root) (\(ErrorText.of(error))); going on without a cache")
            return false
        }
    }

    /// `mkdir -p` with mode 0700 for the folders it makes; the `errno` of the first that
    /// fails (ENOTDIR for a file on the way), which FileManager does not pass on.
    private static func makeFolders(_ path: String) -> Int32? {
        var made = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            made += "/" + part
            if mkdir(made, 0o700) != 0 && errno != EEXIST { return errno }
        }
        var info = stat()
        guard stat(path, &info) == 0 else { return errno }
        return (info.st_mode & S_IFMT) == S_IFDIR ? nil : ENOTDIR
    }
}
