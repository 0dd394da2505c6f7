#if canImport(Glibc)
import Glibc
#endif

/// Counts the files and bytes a backup will visit, so progress can show an ETA.
/// Runs beside the archiver; it reads only metadata.
public enum Scanner {
    public static func scan(paths: [[UInt8]], excludes: [String], into progress: BackupProgress) {
        let matcher = PathMatcher(excludes)
        for path in paths { visit(SourceTrie.normalise(path), matcher: matcher, progress: progress) }
        progress.scanFinished()
    }

    private static func visit(_ path: [UInt8], matcher: PathMatcher, progress: BackupProgress) {
        guard let st = try? FileSystem.lstat(path) else { return }
        switch st.st_mode & S_IFMT {
        case S_IFREG:
            progress.scanned(files: 1, bytes: UInt64(st.st_size))
        case S_IFDIR:
            for name in (try? FileSystem.entries(path)) ?? [] {
                let child = PathBytes.join(path, name)
                if !matcher.matches(path: child, name: name) { visit(child, matcher: matcher, progress: progress) }
            }
        default:
            progress.scanned(files: 1, bytes: 0)
        }
    }
}
