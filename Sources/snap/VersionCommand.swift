import ArgumentParser
import SnapCompression
import SnapCrypto
import SnapEngine
import SnapHTTP

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version", abstract: "Print snap's version and those of the libraries it runs with.")

    @Flag(help: "Print as JSON.")
    var json = false

    func run() throws {
        let info: [(String, String)] = [
            ("snap", snapVersion), ("swift", Self.swiftVersion), ("platform", Self.platform),
            ("zstd", ZstdLibrary.version), ("openssl", OpenSSLLibrary.version), ("curl", CurlLibrary.version),
            ("workers", String(System.activeProcessorCount)),
        ]
        if json {
            try Output.json(Dictionary(uniqueKeysWithValues: info))
            return
        }
        Output.line("snap \(snapVersion) compiled with Swift \(Self.swiftVersion) on \(Self.platform)")
        Output.line("zstd \(ZstdLibrary.version), \(OpenSSLLibrary.version), \(CurlLibrary.version)")
        Output.line("\(System.activeProcessorCount) worker threads (CPUs this process may use, or SNAP_WORKERS)")
    }

    static var platform: String {
        #if os(Linux) && arch(x86_64)
        return "linux/amd64"
        #elseif os(Linux) && arch(arm64)
        return "linux/arm64"
        #else
        return "unknown"
        #endif
    }

    static var swiftVersion: String {
        #if compiler(>=6.3)
        return "6.3"
        #elseif compiler(>=6.2)
        return "6.2"
        #elseif compiler(>=6.1)
        return "6.1"
        #else
        return "6.0"
        #endif
    }
}
