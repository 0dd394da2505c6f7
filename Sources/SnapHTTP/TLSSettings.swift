import Glibc

/// How snap checks the certificates of servers it reaches over TLS (S3 and REST over
/// `https://`) and how it proves who it is to a server that asks (restic's `--cacert`,
/// `--insecure-tls`, `--tls-client-cert`). The default trusts the system's authorities.
public struct TLSSettings: Sendable, Equatable {
    /// PEM certificates of the authorities to trust instead of the system's, all files
    /// given one after another; empty: the system's. Read when the settings are made, so a
    /// missing or wrong file is named before anything is sent.
    public private(set) var authorities: [UInt8] = []
    /// `false` (`--insecure-tls`): accept any certificate for any name. The connection is
    /// still encrypted, but anyone in between can read and change it.
    public private(set) var verifiesServer = true
    /// A PEM file holding snap's own certificate and its private key.
    public private(set) var clientCertificate: String?

    public init() {}

    /// Settings from the files a user named.
    /// - Parameters:
    ///   - authorityFiles: PEM files of certificate authorities (`--cacert`).
    ///   - clientCertificate: a PEM file with a certificate and its unencrypted private key.
    ///   - insecure: skip verifying the server's certificate and name.
    ///   - authoritySource: where `authorityFiles` came from, for messages (`--cacert`, or
    ///     the variable that named them).
    /// - Throws: `TLSSettingsError` naming the file that cannot be read or holds the wrong thing.
    public init(authorityFiles: [String], clientCertificate: String?, insecure: Bool, authoritySource: String = "--cacert") throws {
        for path in authorityFiles {
            let text = try Self.contents(of: path, option: authoritySource)
            guard Self.blocks(in: text).contains("CERTIFICATE") else {
                throw TLSSettingsError(path: path, option: authoritySource, reason: "holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
            }
            authorities += text
            if text.last != UInt8(ascii: "\n") { authorities.append(UInt8(ascii: "\n")) }
        }
        if let clientCertificate {
            let text = try Self.contents(of: clientCertificate, option: "--tls-client-cert")
            let blocks = Self.blocks(in: text)
            guard blocks.contains("CERTIFICATE"), blocks.contains(where: { $0.hasSuffix("PRIVATE KEY") }) else {
                throw TLSSettingsError(path: clientCertificate, option: "--tls-client-cert",
                                       reason: "must hold the client's certificate and its private key, both in PEM")
            }
            // PKCS#8's encrypted form, or the older one whose header says Proc-Type: 4,ENCRYPTED.
            let encrypted = blocks.contains("ENCRYPTED PRIVATE KEY")
                || String(decoding: text, as: UTF8.self).contains("Proc-Type: 4,ENCRYPTED")
            guard !encrypted else {
                throw TLSSettingsError(path: clientCertificate, option: "--tls-client-cert",
                                       reason: "holds an encrypted private key; snap needs it unencrypted: write the key with "
                                        + "'openssl pkey -in FILE -out KEY' and give a file holding the certificate and KEY")
            }
            self.clientCertificate = clientCertificate
        }
        verifiesServer = !insecure
    }

    /// PEM files are small; a larger file is not one, and is not read whole.
    static let largestFile = 4 << 20

    private static func contents(of path: String, option: String) throws -> [UInt8] {
        func failure(_ reason: String) -> TLSSettingsError { TLSSettingsError(path: path, option: option, reason: reason) }
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)  // a fifo must not hang the command
        guard fd >= 0 else { throw failure("cannot be opened: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { throw failure("is not a file") }
        guard Int(info.st_size) <= largestFile else { throw failure("is \(info.st_size) bytes, too large for a PEM file") }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while bytes.count <= largestFile {
            let n = read(fd, &chunk, chunk.count)
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw failure("cannot be read: \(String(cString: strerror(errno)))") }
            if n == 0 { return bytes }
            bytes += chunk[..<n]
        }
        throw failure("is too large for a PEM file")
    }

    /// The labels of the PEM blocks in `text` (`CERTIFICATE`, `PRIVATE KEY`, …).
    static func blocks(in text: [UInt8]) -> [String] {
        String(decoding: text, as: UTF8.self).split(whereSeparator: \.isNewline).compactMap { line in
            let trimmed = line.trimmingCharacters(in: " \t\r")
            guard trimmed.hasPrefix("-----BEGIN "), trimmed.hasSuffix("-----") else { return nil }
            return String(trimmed.dropFirst("-----BEGIN ".count).dropLast("-----".count))
        }
    }
}

/// A TLS file given on the command line that cannot be used.
public struct TLSSettingsError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let option: String
    public let reason: String
    public var description: String { "\(option) \(path) \(reason)" }
}
