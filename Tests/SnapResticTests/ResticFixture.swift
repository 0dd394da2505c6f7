import CPosix
import Foundation
import SnapCore
import SnapCrypto
import SnapStorage
import SnapTestSupport
@testable import SnapRestic

/// A restic repository made by the real restic (0.14 on Debian) at test time, from a small
/// source tree that changes between snapshots, with the state of the tree at each snapshot
/// recorded so that what the reader returns can be compared with what was on disk.
final class ResticFixture: @unchecked Sendable {
    static let password = "correct horse"
    let folder: TemporaryDirectory
    let repository: String
    let source: String
    /// The restic program.
    static let restic = ["/usr/bin/restic", "/usr/local/bin/restic"].first { FileManager.default.isExecutableFile(atPath: $0) }

    init(version: Int?) throws {
        folder = try TemporaryDirectory(prefix: "snap-restic", in: "/var/tmp")
        repository = folder.appending("repo")
        source = folder.appending("src")
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        var arguments = ["init"]
        if let version { arguments += ["--repository-version", "\(version)"] }
        try restic(arguments)
    }

    deinit { folder.remove() }

    /// Runs restic on the repository with the password; throws with its output on failure.
    @discardableResult
    func restic(_ arguments: [String], in directory: String? = nil) throws -> String {
        guard let program = Self.restic else { throw FixtureError("restic is not installed (scripts/install-deps.sh)") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = ["-r", repository, "--no-cache", "-q"] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["RESTIC_PASSWORD"] = Self.password
        process.environment = environment
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw FixtureError("restic \(arguments.joined(separator: " ")) failed: \(String(decoding: stderr, as: UTF8.self))")
        }
        return String(decoding: stdout, as: UTF8.self)
    }

    /// Backs up `src` (given relatively, so the snapshot's root tree holds `src`) and returns the snapshot's ID.
    func backup(host: String, tags: [String]) throws -> String {
        var arguments = ["backup", "--json", "--host", host]
        for tag in tags { arguments += ["--tag", tag] }
        let output = try restic(arguments + ["src"], in: folder.path)
        for line in output.split(separator: "\n") {
            if let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
               object["message_type"] as? String == "summary", let id = object["snapshot_id"] as? String {
                return id
            }
        }
        throw FixtureError("no snapshot ID in restic's output: \(output)")
    }

    /// The master keys, as `restic cat masterkey` prints them.
    func masterKey() throws -> ResticCipherKey {
        struct Keys: Decodable { struct MAC: Decodable { let k: Data; let r: Data }; let mac: MAC; let encrypt: Data }
        let keys = try JSONDecoder().decode(Keys.self, from: Data(try restic(["cat", "masterkey"]).utf8))
        return try ResticCipherKey(encryption: Array(keys.encrypt), macK: Array(keys.mac.k), macR: Array(keys.mac.r))
    }

    func backend() -> Backend { LocalBackend(root: repository) }

    // MARK: the source tree

    func write(_ relative: String, _ bytes: [UInt8]) throws {
        let path = "\(source)/\(relative)"
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { throw FixtureError("cannot write \(path)") }
    }

    /// Creates a file whose name is the raw bytes `name` (which need not be UTF-8) in `src`.
    func writeRawName(_ name: [UInt8], _ bytes: [UInt8]) throws {
        let path = Array(source.utf8) + [47] + name + [0]
        let fd = path.withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_CREAT | O_WRONLY | O_TRUNC, 0o644) } }
        guard fd >= 0 else { throw FixtureError("cannot create a raw-named file") }
        defer { close(fd) }
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    }

    func setXattr(_ relative: String, name: String, value: [UInt8]) throws {
        let result = value.withUnsafeBytes { setxattr("\(source)/\(relative)", name, $0.baseAddress, $0.count, 0) }
        guard result == 0 else { throw FixtureError("setxattr failed (errno \(errno))") }
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Seals `plaintext` as restic does (`IV || AES-256-CTR ciphertext || Poly1305-AES MAC`),
/// for tests that plant files restic itself would write (a lock).
func resticSeal(_ plaintext: [UInt8], key: ResticCipherKey) throws -> [UInt8] {
    let iv = (0..<16).map { _ in UInt8.random(in: 1...255) }
    let ciphertext = try AESCTR(key: key.encryption).apply(plaintext, iv: iv)
    return iv + ciphertext + (try key.mac.tag(ciphertext, nonce: iv))
}

/// Pseudo-random bytes from a seed (xorshift), so big files are reproducible and incompressible.
func pseudoRandomBytes(count: Int, seed: UInt64) -> [UInt8] {
    var state = seed | 1
    var out = [UInt8]()
    out.reserveCapacity(count)
    while out.count < count {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        withUnsafeBytes(of: state.littleEndian) { out.append(contentsOf: $0.prefix(count - out.count)) }
    }
    return out
}
