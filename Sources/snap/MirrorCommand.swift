import ArgumentParser
import Foundation
import SnapComposition
import SnapStorage

/// `snap mirror …`: compare, heal and extend the replicas of a repository. None of these
/// commands needs the password: every file but `config` is named by its content.
struct MirrorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mirror",
        abstract: "Compare, sync and add replicas of a repository kept at several locations.",
        discussion: "The replicas are the -r locations and those of --repo-file. No password is needed. See docs/mirroring.md.",
        subcommands: [MirrorStatusCommand.self, MirrorSyncCommand.self, MirrorAddCommand.self])
}

struct MirrorStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show what each replica holds, lacks, has alone, and holds damaged.",
        discussion: "Compares listings; copies whose sizes differ are read and checked against their names. "
            + "With --json, 'in_sync' tells whether every replica is reachable and holds the same, undamaged files.")

    @OptionGroup(title: "Global options") var global: GlobalOptions

    @Flag(help: "Read every copy of every file and check it against its name (downloads the whole repository from each replica).")
    var verify = false

    func run() throws {
        try reportingErrors {
            let status = MirrorStatus.check(try global.replicas(), verify: verify, verifyName: RepositoryLocation.verifyName,
                                            parallelism: global.connections)
            if global.json {
                try Output.json(MirrorStatusJSON(status))
                return
            }
            var rows = [["Replica", "Reachable", "Keys", "Config", "Packs", "Index", "Snapshots", "Lacking", "Extra", "Damaged"]]
            for r in status.replicas {
                func cell(_ kind: FileKind) -> String {
                    guard let totals = r.kinds[kind.rawValue] else { return "-" }
                    return "\(totals.files) (\(Output.bytes(UInt64(totals.bytes))))"
                }
                rows.append(r.reachable
                    ? [r.name, "yes", cell(.keys), cell(.config), cell(.data), cell(.index), cell(.snapshots),
                       "\(r.lacking.count)", "\(r.extra.count)", "\(r.damaged.count)"]
                    : [r.name, "NO", "-", "-", "-", "-", "-", "-", "-", "-"])
            }
            Table.print(rows)
            for r in status.replicas {
                if let error = r.error { Output.line("\(r.name): unreachable: \(error)") }
                list(r.lacking, "\(r.name) lacks")
                list(r.extra, "\(r.name) alone has")
                list(r.damaged, "\(r.name) has damaged copies of")
            }
            for problem in status.problems { Output.line("problem: \(problem)") }
            if status.inSync {
                Output.line(status.verified ? "replicas are in sync; every copy matches its name" : "replicas are in sync")
            } else if let warning = status.syncWarning {
                Output.line("replicas differ, and \(warning)")
            } else {
                // Damage that --verify found at equal sizes is found again only by sync --verify.
                let needsVerify = status.verified && status.replicas.contains { !$0.damaged.isEmpty }
                Output.line("replicas differ: run `snap mirror sync\(needsVerify ? " --verify" : "")` "
                    + "(with --dry-run first to see what it would do)")
            }
        }
    }

    /// Prints up to ten names of `files` (all with --verbose).
    private func list(_ files: [String], _ title: String) {
        guard !files.isEmpty else { return }
        let shown = global.verbose ? files : Array(files.prefix(10))
        Output.line("\(title) \(files.count) file\(files.count == 1 ? "" : "s"):")
        for file in shown { Output.line("  \(file)") }
        if shown.count < files.count { Output.line("  … and \(files.count - shown.count) more (--verbose or --json lists all)") }
    }
}

struct MirrorSyncCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Copy to each replica what it lacks, in dependency order, checking every copy against its name.",
        discussion: """
        Copies key files, then config, packs, index files and snapshots, several at a time; \
        run it again to resume after an interruption. Damaged copies found on the way (or by \
        --verify) are replaced from a good copy. Nothing is deleted unless --delete-extra is given.
        """)

    @OptionGroup(title: "Global options") var global: GlobalOptions

    @Flag(name: .customLong("dry-run"), help: "Show what would be copied, repaired or deleted; change nothing.")
    var dryRun = false

    @Flag(help: "Read every copy of every file and check it against its name, so damaged copies are found and replaced.")
    var verify = false

    @Flag(name: .customLong("delete-extra"), help: """
        Delete snapshots, index files and packs that the first replica lacks from the other replicas, \
        instead of copying them to it. Only when the first replica is known to be complete. Refused \
        when another replica holds snapshots the first lacks and the first went through no prune \
        it missed (backups the first replica missed).
        """)
    var deleteExtra = false

    func run() throws {
        try reportingErrors {
            let replicas = try global.replicas()
            guard replicas.count > 1 else {
                throw CLIError("only one replica is given: name every replica with -r (repeated) or --repo-file")
            }
            let options = MirrorSync.Options(dryRun: dryRun, verify: verify, deleteExtra: deleteExtra, parallelism: global.connections)
            try MirrorProgress.sync(replicas, options: options, global: global)
        }
    }
}

struct MirrorAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Copy the repository to a new location, which can then be used as another replica.",
        discussion: """
        Copies every file from the existing replicas (-r, --repo-file) to LOCATION, checking each \
        against its name. The new location must be empty or hold a partial copy of this repository. \
        Run it again to resume. Then add LOCATION to the repository file or the -r list.
        """)

    @OptionGroup(title: "Global options") var global: GlobalOptions

    @Argument(help: "The new replica's location.")
    var location: String

    @Option(name: .customLong("env"), parsing: .unconditionalSingleValue, help: ArgumentHelp(
        "Give the new replica's backend VARIABLE from the environment variable SOURCE (repeatable), as 'env' in the repository file does.",
        valueName: "VARIABLE=SOURCE"))
    var env: [String] = []

    @Flag(name: .customLong("dry-run"), help: "Show what would be copied; change nothing.")
    var dryRun = false

    func validate() throws {
        for pair in env where pair.split(separator: "=", maxSplits: 1).count != 2 {
            throw ValidationError("--env takes VARIABLE=SOURCE, not '\(pair)'")
        }
    }

    func run() throws {
        try reportingErrors {
            let existing = try global.replicas()
            var mapping: [String: String] = [:]
            for pair in env {
                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                mapping[parts[0]] = parts[1]
            }
            let spec = GlobalOptions.ReplicaSpec(location: location, env: mapping)
            let new = try global.replica(spec)
            if existing.contains(where: { $0.name == new.name }) {
                throw CLIError("\(new.name) is already one of the replicas")
            }
            guard let config = try existingConfig(existing) else {
                throw CLIError("the existing replicas hold no repository (no config): nothing to copy")
            }
            // A location that does not exist yet (an S3 bucket, a REST repository) cannot answer.
            if (try? new.backend.exists(.config)) == true {
                guard try new.backend.read(.config) == config else {
                    throw CLIError("\(new.name) already holds a different repository; choose an empty location")
                }
            } else if !dryRun {
                try RepositoryLocation.prepareForInit(location: location, options: try global.backendOptions(for: spec))
            }
            let options = MirrorSync.Options(dryRun: dryRun, parallelism: global.connections, targets: [existing.count])
            try MirrorProgress.sync(existing + [new], options: options, global: global)
            if !dryRun && !global.quiet && !global.json {
                Output.line("\(new.name) now holds a full copy of the repository. To use it as a replica, add it to the repository file:")
                let entry: [String: Any] = mapping.isEmpty ? ["location": location] : ["location": location, "env": mapping]
                let json = try JSONSerialization.data(withJSONObject: entry, options: [.sortedKeys, .withoutEscapingSlashes])
                Output.line("  " + String(decoding: json, as: UTF8.self))
                Output.line("or pass -r \(RepositoryLocation.redacted(location)) along with the other -r options.")
            }
        }
    }

    /// The config file of the first existing replica that has one.
    private func existingConfig(_ replicas: [Replica]) throws -> [UInt8]? {
        for replica in replicas {
            do {
                return try replica.backend.read(.config)
            } catch StorageError.notFound {
                continue
            } catch {
                Output.error("warning: cannot read config from \(replica.name): \(error)")
            }
        }
        return nil
    }
}

/// Runs a sync and prints what it did.
enum MirrorProgress {
    static func sync(_ replicas: [Replica], options: MirrorSync.Options, global: GlobalOptions) throws {
        let printEach = global.verbose && !global.json
        let result = try MirrorSync.run(replicas, options: options, verifyName: RepositoryLocation.verifyName,
                                        report: { Output.error("warning: \($0)") },
                                        onAction: { if printEach && !options.dryRun { Output.line(describe($0, dryRun: false)) } })
        if global.json {
            try Output.json(MirrorSyncJSON(result))
        } else {
            if options.dryRun {
                for action in result.actions { Output.line(describe(action, dryRun: true)) }
            }
            if !global.quiet { summarize(result) }
        }
        for problem in result.problems { Output.error("error: \(problem)") }
        if !result.isComplete {
            Output.error("snap: sync incomplete (\(result.problems.count) problem\(result.problems.count == 1 ? "" : "s")); "
                + "run it again once they are fixed: it resumes where it stopped")
            throw ExitCode(Exit.fatal)
        }
    }

    static func describe(_ a: MirrorSync.Action, dryRun: Bool) -> String {
        let size = Output.bytes(UInt64(a.bytes))
        switch a.action {
        case .copy: return "\(dryRun ? "would copy" : "copied") \(a.file) (\(size)) from \(a.from ?? "?") to \(a.to)"
        case .repair: return "\(dryRun ? "would replace" : "replaced") the damaged \(a.file) on \(a.to) with the copy from \(a.from ?? "?")"
        case .delete: return "\(dryRun ? "would delete" : "deleted") \(a.file) (\(size)) from \(a.to)"
        }
    }

    /// One line per replica that changed, and one when nothing did.
    static func summarize(_ result: MirrorSync.Report) {
        guard !result.actions.isEmpty else {
            if result.isComplete { Output.line("nothing to do: every replica holds every file") }
            return
        }
        var targets: [String] = []
        for a in result.actions where !targets.contains(a.to) { targets.append(a.to) }
        for target in targets {
            let mine = result.actions.filter { $0.to == target }
            var parts: [String] = []
            let verbs: [(MirrorSync.Action.Kind, String)] = result.dryRun
                ? [(.copy, "would copy"), (.repair, "would repair"), (.delete, "would delete")]
                : [(.copy, "copied"), (.repair, "repaired"), (.delete, "deleted")]
            for (kind, verb) in verbs {
                let some = mine.filter { $0.action == kind }
                guard !some.isEmpty else { continue }
                let bytes = Output.bytes(UInt64(some.reduce(0) { $0 + $1.bytes }))
                parts.append("\(verb) \(some.count) file\(some.count == 1 ? "" : "s") (\(bytes))")
            }
            Output.line("\(target): " + parts.joined(separator: ", "))
        }
    }
}

/// `mirror status --json`: the library's report plus whether the replicas are in sync.
private struct MirrorStatusJSON: Encodable {
    let status: MirrorStatus

    init(_ status: MirrorStatus) { self.status = status }

    enum CodingKeys: String, CodingKey { case replicas, verified, problems, inSync = "in_sync", syncWarning = "sync_warning" }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(status.replicas, forKey: .replicas)
        try c.encode(status.verified, forKey: .verified)
        try c.encode(status.problems, forKey: .problems)
        try c.encode(status.inSync, forKey: .inSync)
        try c.encodeIfPresent(status.syncWarning, forKey: .syncWarning)
    }
}

/// `mirror sync --json` and `mirror add --json`.
private struct MirrorSyncJSON: Encodable {
    let report: MirrorSync.Report

    init(_ report: MirrorSync.Report) { self.report = report }

    enum CodingKeys: String, CodingKey { case dryRun = "dry_run", actions, problems, complete }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(report.dryRun, forKey: .dryRun)
        try c.encode(report.actions, forKey: .actions)
        try c.encode(report.problems, forKey: .problems)
        try c.encode(report.isComplete, forKey: .complete)
    }
}
