import ArgumentParser
import SnapCore
import SnapEngine
#if canImport(Glibc)
import Glibc
#endif

struct DumpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump", abstract: "Write a file from a snapshot to standard output, or a folder as a tar or zip stream.",
        discussion: """
        A file comes out as it is; a folder (or / for the whole snapshot) as an archive whose \
        names are the snapshot paths without the leading /, as 'snap restore' lays them out. \
        tar (the default) is pax; a file whose content repeats an all-zero chunk is written as a \
        GNU sparse member, which GNU tar and bsdtar extract with holes. zip is written as a \
        stream (data descriptors, ZIP64 where needed), deflated; it has no place for fifos, \
        devices or sockets (tar none for sockets): those are left out with a warning. Memory \
        stays constant whatever the size.
        """)

    @Argument(help: "Snapshot ID, unique prefix, or 'latest'; SNAPSHOT:folder makes PATH relative to that folder.")
    var snapshot: String

    @Argument(help: "Absolute path in the snapshot.")
    var path: String

    @Option(name: [.customShort("a"), .long], parsing: .unconditional, help: "Archive format for folders: tar or zip.")
    var archive = "tar"

    @Option(parsing: .unconditional, help: "Write to this file instead of standard output.")
    var target: String?

    @OptionGroup(title: "Global options") var global: GlobalOptions
    /// `--host`, `--path`, `--tag`: which snapshot `latest` means, as in restic.
    @OptionGroup var filter: FilterOptions

    func validate() throws {
        guard ArchiveFormat(rawValue: archive) != nil else { throw ValidationError("--archive \(archive) is not supported; use tar or zip") }
        guard path.hasPrefix("/") else { throw ValidationError("the path must be absolute, as in the snapshot (see 'snap ls')") }
    }

    func run() throws {
        try reportingErrors {
            let repository = try global.openRepository()
            let reference = try SnapshotReference.resolve([snapshot], filter: filter.snapshotFilter, in: repository,
                                                          skipped: global.snapshotSkipped) {
                try global.loadIndex(repository, listed: $0)
            }[0]
            let fd: Int32
            if let target {
                fd = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
                guard fd >= 0 else { throw CLIError("cannot write \(target): \(String(cString: strerror(errno)))") }
            } else {
                fd = STDOUT_FILENO
            }
            defer { if target != nil { close(fd) } }
            let format = ArchiveFormat(rawValue: archive) ?? .tar
            let skipped = { (path: [UInt8], type: NodeType) in
                Output.error("warning: \(PathBytes.display(path)) is a \(type): \(format.rawValue) has no place for it, left out")
            }
            // Standard output carries the data without --target: then the progress goes to
            // standard error, when that is a terminal (`snap dump latest / > x.tar`).
            let progress = TaskProgress()
            let line: StatusLine?
            if target != nil {
                line = StatusLine.task(progress, global: global)
            } else if !global.quiet && !global.json && isatty(STDERR_FILENO) == 1 && isatty(STDOUT_FILENO) == 0 {
                line = StatusLine(output: STDERR_FILENO) { StatusLine.taskText(progress.snapshot, elapsed: $0) }
            } else {
                line = nil
            }
            defer { line?.stop() }
            progress.start("writing \(target ?? "standard output")")
            // Into a regular file, runs of zeros stay holes (a sparse disk image takes the
            // space of its data); a pipe or device gets every byte.
            var info = stat()
            let name = target ?? "standard output"
            let regularFile = target != nil && fstat(fd, &info) == 0 && info.st_mode & S_IFMT == S_IFREG
            var sparse = regularFile ? SparseOutput(fd: fd) : nil
            do {
                do {
                    try SnapshotDump(repository: repository, readWorkers: global.connections, treeRoot: reference.subfolder).dump(RawArguments.bytes(of: [path])[0], in: reference.tree, format: format, skipped: skipped) { bytes in
                        if sparse == nil { try Self.writeAll(fd, bytes, to: name) } else { try sparse?.write(bytes) }
                        progress.add(bytes: UInt64(bytes.count))
                    }
                    try sparse?.finish()
                } catch let error as SparseOutput.WriteError {
                    throw CLIError("cannot write to \(name): \(error)")
                }
            } catch {
                // A file cut short would look like a whole one (a tar ends anywhere between
                // members): what the dump wrote into a file of its own goes with the failure.
                if regularFile, let target { unlink(target) }
                throw error
            }
        }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], to name: String) throws {
        var done = 0
        try bytes.withUnsafeBytes { buffer in
            while done < buffer.count {
                guard let base = buffer.baseAddress else { return }
                let n = write(fd, base + done, buffer.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw CLIError("cannot write to \(name): \(String(cString: strerror(errno)))")
                }
                done += n
            }
        }
    }
}
