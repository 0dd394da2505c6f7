import ArgumentParser
import Foundation
import SnapEngine

struct BenchmarkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "benchmark",
        abstract: "Measure chunking, hashing, compression and encryption here, and the repository's storage if one is given.",
        discussion: "Use it to choose a compression level (init --compression, backup --compression) and --connections.")

    @OptionGroup(title: "Global options") var global: GlobalOptions

    @Option(parsing: .unconditionalSingleValue, help: "zstd levels to measure.")
    var levels: [Int] = [1, 3, 6, 9, 15]

    @Flag(name: .customLong("no-storage"), help: "Skip the storage measurement even when a repository is given.")
    var noStorage = false

    func run() throws {
        try reportingErrors {
            var figures = try MachineBenchmark.cpu(levels: levels)
            let location = try? global.location()
            if !noStorage, location != nil {
                figures += try MachineBenchmark.backend(try global.backend(), connections: global.connections)
            }
            if global.json { try Output.json(figures); return }
            var rows = [["Measure", "Throughput", "Latency", "Ratio", "Note"]]
            for f in figures {
                rows.append([f.name,
                             f.bytesPerSecond.map { Output.bytes(UInt64($0)) + "/s" } ?? "",
                             f.seconds.map { String(format: "%.1f ms", $0 * 1000) } ?? "",
                             f.ratio.map { String(format: "%.2f", $0) } ?? "",
                             f.note ?? ""])
            }
            Table.print(rows)
            if !global.quiet {
                Output.line("CPU figures are for one core; a backup compresses and encrypts on every core.")
            }
        }
    }
}
