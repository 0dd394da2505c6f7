import ArgumentParser
import SnapCore
import SnapEngine
import SnapRepository

struct FindCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "find", abstract: "Find files and folders in snapshots by name or path, or by the blobs they use.",
        discussion: """
        A pattern without / matches names (shell-style: *, ?, [...]); with / it matches the whole \
        absolute path. Matches are grouped by snapshot, oldest first. --blob and --tree find the \
        files that use a data blob or the folders that are a tree, --pack those using any blob of \
        a pack, e.g. those a damage report names; each use is reported as restic reports it \
        (--show-pack-id adds where each blob is stored).
        """)

    @Argument(help: "Name or path patterns.")
    var patterns: [String] = []

    /// The patterns' bytes as the shell passed them (a name need not be UTF-8).
    private var patternTexts: [PatternText] { RawArguments.bytes(of: patterns).map(PatternText.init(bytes:)) }

    @Option(name: [.short, .customLong("snapshot")], parsing: .unconditionalSingleValue, help: "Only this snapshot (repeatable; ID, prefix or 'latest').")
    var snapshots: [String] = []

    @Option(name: [.customShort("O"), .customLong("oldest")], parsing: .unconditional, help: "Only entries modified at or after this time (as restic).")
    var oldest: String?

    @Option(name: [.customShort("N"), .customLong("newest")], parsing: .unconditional, help: "Only entries modified at or before this time (as restic).")
    var newest: String?

    @OptionGroup var filter: FilterOptions

    @Flag(name: .shortAndLong, help: "Long listing: type, mode, owner, size, time.")
    var long = false

    @Flag(name: .customLong("human-readable"), help: "With --long, print sizes in KiB, MiB, GiB.")
    var humanReadable = false

    @Flag(help: "The arguments are data blob IDs (or unique prefixes of 8 or more digits): find the files using them.")
    var blob = false

    @Flag(name: [.short, .customLong("ignore-case")], help: "Patterns match regardless of case.")
    var ignoreCase = false

    @Flag(help: "The arguments are tree IDs: find the folders they are.")
    var tree = false

    @Flag(help: "The arguments are pack IDs (or unique prefixes): find the files and folders using the blobs they hold.")
    var pack = false

    @Flag(name: .customLong("show-pack-id"), help: "With --blob, --tree or --pack: also print the pack each blob found is stored in.")
    var showPackID = false

    @OptionGroup(title: "Global options") var global: GlobalOptions

    func validate() throws {
        guard !patterns.isEmpty else { throw ValidationError("give at least one pattern (or ID with --blob/--tree)") }
        guard [blob, tree, pack].filter({ $0 }).count <= 1 else { throw ValidationError("--blob, --tree and --pack exclude each other") }
        try InputValidation.time(oldest, option: "--oldest")
        try InputValidation.time(newest, option: "--newest")
        if showPackID && !(blob || tree || pack) { throw ValidationError("--show-pack-id needs --blob, --tree or --pack") }
        if blob || tree || pack {
            for id in patterns where id.count < 8 || !id.allSatisfy(\.isHexDigit) {
                throw ValidationError("'\(id)' is not a \(pack ? "pack" : "blob or tree") ID (8 to 64 hexadecimal digits)")
            }
        } else {
            try InputValidation.patterns(patternTexts, option: "pattern")
        }
    }

    func run() throws {
        try reportingErrors {
            let repository = try global.openRepository()
            // A snapshot named with -s is searched whatever the filters say, as in restic.
            let records = try filter.select(snapshots, in: repository, global: global)
            let (from, until) = (oldest.flatMap(RFC3339.parse), newest.flatMap(RFC3339.parse))
            try global.loadIndex(repository)
            if blob || tree || pack {
                let ids = pack ? try blobsInPacks(repository) : try resolveBlobs(repository)
                let kinds: BlobUses.Kinds = pack ? [.data, .tree] : blob ? .data : .tree
                let search = BlobUseSearch(repository: repository, ids: ids, kinds: kinds, modified: (from, until), json: global.json, showPackID: showPackID)
                try search.run(records)
                return
            }
            let target = try SnapshotSearch.Target.patterns(parsing: patternTexts, ignoringCase: ignoreCase)
            let search = SnapshotSearch(repository: repository, target: target)
            let out = OutputBuffer()
            defer { out.flush() }
            if global.json { out.append(Array("[".utf8)) }
            var groups = 0
            for record in records {
                var hits = 0
                try search.search(record.snapshot.tree) { path, node in
                    if let from, node.mtime < from { return }
                    if let until, node.mtime > until { return }
                    hits += 1
                    if global.json {
                        // Each match is written as it is found, so memory does not grow with
                        // them: a group's object opens at its first match. All on one line, as restic's.
                        let opening = hits > 1 ? "," : ((groups > 0 ? "," : "") + #"{"matches":["#)
                        out.append(Array(opening.utf8))
                        out.append(NodeJSON.text(node, path: path))
                        return
                    }
                    if hits == 1 {
                        out.line("Found matching entries in snapshot \(record.id.short) from \(LocalTime.display(record.snapshot.timestamp))")
                    }
                    out.line(long ? LsCommand.longLine(node, path: path, humanReadable: humanReadable) : PathBytes.display(path))
                }
                guard hits > 0 else { continue }
                groups += 1
                if global.json {
                    var tail = JSONObjectWriter()
                    tail.field("hits", Int64(hits))
                    tail.field("snapshot", record.id.hex)
                    // `],"hits":…,"snapshot":…}`: the group's object, closed after its matches.
                    out.append(Array("],".utf8) + tail.finished().dropFirst())
                } else {
                    out.line("")
                }
            }
            if global.json { out.line(Array("]".utf8)) }
        }
    }

    /// The full IDs of the blobs named in the arguments: a full ID as it is (it may be one
    /// `check` reports missing from the index, whose users are wanted), a prefix as the
    /// index knows it; a prefix it does not know is a warning, as restic finds nothing.
    private func resolveBlobs(_ repository: Repository) throws -> Set<BlobID> {
        var found: Set<BlobID> = []
        for text in patterns.map({ $0.lowercased() }) {
            let matches = BlobID(hex: text).map { [$0] } ?? repository.index.blobIDs(withHexPrefix: text)
            if matches.isEmpty { Output.error("warning: no blob or tree in the index begins with \(text)") }
            found.formUnion(matches)
        }
        return found
    }

    /// Every blob the index places in the packs named (by prefix) in the arguments.
    private func blobsInPacks(_ repository: Repository) throws -> Set<BlobID> {
        let indexed = repository.index.packs.map(\.id)
        let packs = try patterns.map { typed in
            let prefix = typed.lowercased()
            return try IDPrefix.resolve(prefix, in: indexed, what: "pack", notFound: "no pack \(prefix) in the index",
                                        ambiguous: { _ in "pack ID prefix \(prefix) is ambiguous: give more digits" })
        }
        return Set(repository.index.blobIDs(inPacks: Set(packs)))
    }
}
