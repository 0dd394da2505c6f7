/// How snap checks the certificates of servers it reaches over TLS (S3 and REST over
/// `https://`) and how it proves who it is to a server that asks (restic's `--cacert`,
/// `--insecure-tls`, `--tls-client-cert`). The default trusts the system's authorities.
///
/// It holds the PEM text itself, not file names: the files are read once, before anything
/// is sent (a pipe such as `<(command)` can be read only once), and libcurl is handed the
/// bytes.
public struct TLSSettings: Sendable, Equatable {
    /// PEM certificates of the authorities to trust instead of the system's, all files
    /// given one after another; empty: the system's.
    public private(set) var authorities: [UInt8] = []
    /// `false` (`--insecure-tls`): accept any certificate for any name. The connection is
    /// still encrypted, but anyone in between can read and change it.
    public private(set) var verifiesServer = true
    /// PEM text holding snap's own certificate and its private key.
    public private(set) var clientCertificate: [UInt8]?

    public init() {}

    /// A file's name, for messages, and its bytes.
    public typealias PEMFile = (name: String, bytes: [UInt8])

    /// Settings from the files a user named, checked for what they must hold.
    /// - Parameters:
    ///   - authorities: PEM files of certificate authorities (`--cacert`).
    ///   - clientCertificate: a PEM file with a certificate and its unencrypted private key.
    ///   - insecure: skip verifying the server's certificate and name.
    ///   - authoritySource: where `authorities` came from, for messages (`--cacert`, or
    ///     the variable that named them); `clientSource` the same for `clientCertificate`.
    /// - Throws: `TLSSettingsError` naming the file that holds the wrong thing.
    public init(authorities: [PEMFile], clientCertificate: PEMFile?, insecure: Bool, authoritySource: String = "--cacert",
                clientSource: String = "--tls-client-cert") throws {
        for file in authorities {
            guard Self.blocks(in: file.bytes).contains("CERTIFICATE") else {
                throw TLSSettingsError(path: file.name, option: authoritySource, reason: "holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
            }
            self.authorities += file.bytes
            if file.bytes.last != UInt8(ascii: "\n") { self.authorities.append(UInt8(ascii: "\n")) }
        }
        if let file = clientCertificate {
            let blocks = Self.blocks(in: file.bytes)
            guard blocks.contains("CERTIFICATE"), blocks.contains(where: { $0.hasSuffix("PRIVATE KEY") }) else {
                throw TLSSettingsError(path: file.name, option: clientSource,
                                       reason: "must hold the client's certificate and its private key, both in PEM")
            }
            // PKCS#8's encrypted form, or the older one whose header says Proc-Type: 4,ENCRYPTED.
            let encrypted = blocks.contains("ENCRYPTED PRIVATE KEY") || String(decoding: file.bytes, as: UTF8.self).contains("Proc-Type: 4,ENCRYPTED")
            guard !encrypted else {
                throw TLSSettingsError(path: file.name, option: clientSource,
                                       reason: "holds an encrypted private key; snap needs it unencrypted: write the key with "
                                        + "'openssl pkey -in FILE -out KEY' and give a file holding the certificate and KEY")
            }
            self.clientCertificate = file.bytes
        }
        verifiesServer = !insecure
    }

    /// The largest PEM file read: certificate bundles are a few hundred KiB.
    public static let largestFile = 4 << 20

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

    public init(path: String, option: String, reason: String) {
        self.path = path
        self.option = option
        self.reason = reason
    }

    public var description: String { "\(option) \(path) \(reason)" }
}
