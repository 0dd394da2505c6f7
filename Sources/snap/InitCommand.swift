import ArgumentParser
import SnapChunker
import SnapCompression
import SnapComposition
import SnapEngine
import SnapRepository

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "Create a new repository.")

    @OptionGroup(title: "Global options") var global: GlobalOptions

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Default zstd compression level for backups: zstd's range, negative for speed (\(ZstdCompressor.levels.lowerBound)…\(ZstdCompressor.levels.upperBound)), "
            + "or restic's auto (3), max (11), off (1).",
        valueName: "level"), transform: InputValidation.compression)
    var compression: InputValidation.CompressionChoice?

    @Option(name: .customLong("pack-size"), parsing: .unconditional, help: "Target pack size in MiB (1…1024).")
    var packSizeMiB = 16

    @Option(name: .customLong("chunk-min"), parsing: .unconditional, help: "Minimum chunk size in KiB.")
    var chunkMin = ChunkerParameters.default.minSize >> 10

    @Option(name: .customLong("chunk-avg"), parsing: .unconditional, help: "Average chunk size in KiB (a power of two).")
    var chunkAverage = ChunkerParameters.default.averageSize >> 10

    @Option(name: .customLong("chunk-max"), parsing: .unconditional, help: "Maximum chunk size in KiB.")
    var chunkMax = ChunkerParameters.default.maxSize >> 10

    func run() throws {
        try reportingErrors {
            for spec in try global.replicaSpecs() {
                // A file, a device or another tool's repository is named as what it is.
                try RepositoryLocation.checkLocal(spec.location)
                try RepositoryLocation.prepareForInit(location: spec.location, options: try global.backendOptions(for: spec))
            }
            let backend = try global.backend()
            var options = Repository.InitOptions()
            options.compressionLevel = compression?.level ?? 3
            options.packSize = packSizeMiB << 20
            options.chunker = ChunkerParameters(minSize: chunkMin << 10, averageSize: chunkAverage << 10, maxSize: chunkMax << 10)
            let repository = try Repository.initialize(
                backend: backend, password: try global.password(confirm: true), options: options,
                hostname: Identity.hostname, username: Identity.username,
                now: WallClock.nowText, cacheRoot: try global.cacheRoot())
            if global.json {
                try Output.json(["id": repository.config.id, "location": backend.location])
            } else if !global.quiet {
                Output.line("created snap repository \(repository.config.id.prefix(10)) at \(backend.location)")
                Output.line("Losing the password means losing the data: keep it somewhere safe.")
            }
        }
    }
}
