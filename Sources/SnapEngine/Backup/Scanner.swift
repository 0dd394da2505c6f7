#if canImport(Glibc)
import Glibc
#endif

/// Counts the files and bytes a backup will visit, so progress can show an ETA.
/// Runs beside the archiver; it reads only metadata, and leaves out what the exclude
/// patterns, tag files and size limit leave out (an estimate: mount points are entered).
public enum Scanner {
    public static func scan(paths: [[UInt8]], exclusions: BackupExclusions, into progress: BackupProgress) {
        defer { progress.scanFinished() }
        guard let check = try? ExclusionCheck(exclusions, warn: { _ in }) else { return }
        for path in paths { visit(SourceTrie.normalise(path), check: check, progress: progress) }
    }

    private static func visit(_ path: [UInt8], check: ExclusionCheck, progress: BackupProgress) {
        guard let st = try? FileSystem.lstat(path), !check.excludedBySize(st) else { return }
        switch st.st_mode & S_IFMT {
        case S_IFREG:
            progress.scanned(files: 1, bytes: UInt64(st.st_size))
        case S_IFDIR:
            let tagged = check.tagRules(in: path)
            for name in (try? FileSystem.entries(path)) ?? [] {
                let child = PathBytes.join(path, name)
                if !check.excludedByName(child) && !ExclusionCheck.excluded(name, taggedBy: tagged) {
                    visit(child, check: check, progress: progress)
                }
            }
        default:
            progress.scanned(files: 1, bytes: 0)
        }
    }
}
