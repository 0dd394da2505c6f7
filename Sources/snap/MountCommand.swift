import ArgumentParser
import SnapEngine
import SnapFUSE
#if canImport(Glibc)
import Glibc
#endif

struct MountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mount", abstract: "Browse every snapshot as a read-only folder tree (FUSE).",
        discussion: """
        MOUNTPOINT shows snapshots/TIME (and latest), ids/SHORTID, hosts/HOST/TIME, tags/TAG/TIME, \
        and at/TIME: for any RFC 3339 time or date typed after at/ (it is not listed), the newest \
        snapshot of each host and set of paths taken at or before it, as 'restore --at' picks. \
        New snapshots appear without remounting. snap stays in the foreground while it serves; \
        Ctrl-C (SIGINT or SIGTERM) or 'fusermount3 -u MOUNTPOINT' unmounts and ends it. \
        Needs /dev/fuse and libfuse3 (Debian: fuse3). See docs/mount.md.
        """)

    @Argument(help: "An existing folder to mount on (what it holds is hidden while mounted).")
    var mountpoint: String

    @OptionGroup var filter: FilterOptions

    @Flag(help: "Let other users see the mount (non-root users need user_allow_other in /etc/fuse.conf).")
    var allowOther = false

    @Flag(help: "Do not let the kernel check permissions against the stored modes and owners.")
    var noDefaultPermissions = false

    @Flag(help: "Stay in the foreground (always so: accepted for restic's scripts).")
    var foreground = false

    @Option(parsing: .unconditional, help: "Snapshot folder names, in UTC: a Go layout as in restic (2006-01-02T15:04:05Z07:00) or strftime fields (%Y-%m-%d).")
    var timeTemplate = "%Y-%m-%dT%H:%M:%SZ"

    @Option(parsing: .unconditional, help: "Memory for decrypted file content, like 256M or 1G.")
    var cacheSize = "256M"

    @OptionGroup(title: "Global options") var global: GlobalOptions

    func validate() throws {
        guard let bytes = ByteSize.parse(cacheSize), bytes >= 1 << 20 else {
            throw ValidationError("--cache-size must be a size of at least 1M, like 256M, not '\(cacheSize)'")
        }
        guard !timeTemplate.isEmpty else { throw ValidationError("--time-template must not be empty") }
    }

    func run() throws {
        try reportingErrors {
            // The one-line reasons (no /dev/fuse, no libfuse3, a stale mountpoint) come
            // before the password is asked for.
            try FUSEMount.check(mountpoint: mountpoint)
            let repository = try global.openRepository()
            var options = SnapshotFileSystem.Options()
            options.filter = filter.snapshotFilter
            options.timeTemplate = timeTemplate
            options.blobCacheBytes = Int(clamping: ByteSize.parse(cacheSize) ?? 256 << 20)
            options.readAheadWorkers = max(global.connections, 1)
            options.uid = getuid()
            options.gid = getgid()
            let fileSystem = SnapshotFileSystem(repository: repository, options: options) { Output.error("warning: \($0)") }
            // Snapshots first, then the index: every snapshot listed has its index files
            // (FORMAT.md, readers). Later listings reload the index when snapshots are new.
            let count = fileSystem.snapshotCount
            try global.loadIndex(repository)
            var mount = FUSEMount.Options()
            mount.allowOther = allowOther
            mount.defaultPermissions = !noDefaultPermissions
            mount.sourceName = "snap:\((try? global.location()) ?? "repository")"
            let mountpoint = self.mountpoint
            Interruption.handleFirstSignal { _ in
                if !FUSEMount.unmount(mountpoint) {
                    Output.error("snap: cannot unmount \(mountpoint); try 'fusermount3 -u \(mountpoint)'")
                }
            }
            if !global.quiet {
                Output.line("serving \(count) snapshots at \(mountpoint); Ctrl-C or 'fusermount3 -u \(mountpoint)' unmounts")
            }
            try FUSEMount.serve(fileSystem, at: mountpoint, options: mount)
            if !global.quiet { Output.line("unmounted \(mountpoint)") }
        }
    }
}
