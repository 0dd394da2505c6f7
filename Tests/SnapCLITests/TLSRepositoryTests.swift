import Foundation
import SnapTestSupport
import XCTest

/// REST repositories over https with a private certificate authority, as users of a
/// self-hosted REST server have them: `--cacert`, `SNAP_CACERT`, `--insecure-tls` and
/// `--tls-client-cert` against a real `rclone serve restic --cert … [--client-ca …]`, with
/// certificates made by the openssl tool.
final class TLSRepositoryTests: XCTestCase {
    private var work = ""
    private var servers: [Process] = []

    override func setUpWithError() throws {
        _ = try serverSetting("REST_URL")  // rclone is installed, and server tests run
        work = try makeTemporaryFolder("tls")
        try makeCertificates()
        try FileManager.default.createDirectory(atPath: "\(work)/src", withIntermediateDirectories: true)
        try Data(seededBytes(count: 300_000, seed: 41)).write(to: URL(fileURLWithPath: "\(work)/src/data.bin"))
    }

    override func tearDownWithError() throws {
        for server in servers where server.isRunning {
            server.terminate()
            server.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: work)
    }

    /// A CA, a server certificate for 127.0.0.1 and a client certificate, both signed by it;
    /// `client.pem` holds the client's certificate and key, as `--tls-client-cert` takes them.
    private func makeCertificates() throws {
        let script = """
        set -e
        cd '\(work)'
        key() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "$@" 2>/dev/null; }
        key -x509 -keyout ca.key -out ca.pem -days 2 -subj '/CN=snap test CA'
        key -keyout server.key -out server.csr -subj '/CN=127.0.0.1'
        printf 'subjectAltName=IP:127.0.0.1\\n' > server.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile server.ext 2>/dev/null
        key -keyout client.key -out client.csr -subj '/CN=snap client'
        openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.crt -days 2 2>/dev/null
        cat client.crt client.key > client.pem
        """
        let result = try runTool("/bin/bash", ["-c", script])
        XCTAssertEqual(result.status, 0, "openssl made the certificates")
    }

    /// Starts `rclone serve restic` over TLS on a port of its choosing and returns its URL.
    private func startServer(clientCA: Bool = false) throws -> String {
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        server.arguments = ["rclone", "serve", "restic", "--addr", "127.0.0.1:0", "--cert", "\(work)/server.pem",
                            "--key", "\(work)/server.key"] + (clientCA ? ["--client-ca", "\(work)/ca.pem"] : []) + ["\(work)/served"]
        let log = Pipe()
        server.standardError = log
        server.standardOutput = FileHandle.nullDevice
        try server.run()
        servers.append(server)
        var text = ""
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let data = log.fileHandleForReading.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
            if let start = text.range(of: "https://127.0.0.1:"), let end = text[start.upperBound...].firstIndex(of: "/") {
                return "rest:" + String(text[start.lowerBound..<end]) + "/"
            }
        }
        throw XCTSkip("rclone serve restic did not start over TLS: \(text)")
    }

    private func snap(_ location: String, _ extra: [String: String] = [:]) -> SnapProcess {
        SnapProcess(environment: ["SNAP_REPOSITORY": location, "SNAP_PASSWORD": "tls pw"].merging(extra) { $1 })
    }

    // A server whose certificate comes from a private authority is refused, with a line
    // that names --cacert; given the authority's certificate, backup and restore work, and
    // so they do with SNAP_CACERT.
    func testPrivateAuthorityNeedsCacert() throws {
        let location = try startServer() + "repo"
        let refused = try snap(location).run(["init"])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("certificate") && refused.stderr.contains("--cacert FILE"), refused.stderr)
        XCTAssertEqual(refused.stderr.split(separator: "\n").count, 1, refused.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(work)/served/repo/config"))

        try snap(location).expect(0, ["init", "--cacert", "\(work)/ca.pem"])
        let viaVariable = snap(location, ["SNAP_CACERT": "\(work)/ca.pem"])
        try viaVariable.expect(0, ["backup", "\(work)/src", "-q"])
        try snap(location).expect(0, ["--cacert", "\(work)/ca.pem", "restore", "latest", "--target", "\(work)/out", "-q"])
        XCTAssertEqual(FileManager.default.contents(atPath: "\(work)/out\(work)/src/data.bin"),
                       FileManager.default.contents(atPath: "\(work)/src/data.bin"))

        // The authority and the password from pipes, as bash's <(command) gives them (campaign 24 F7).
        let piped = try runTool("/bin/bash", ["-c", "'\(SnapProcess.binary)' -r '\(location)' snapshots -q "
                                              + "--cacert <(cat '\(work)/ca.pem') --password-file <(echo 'tls pw')"],
                                environment: ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SNAP_") })
        XCTAssertEqual(piped.status, 0)
    }

    // Each replica of a mirror makes its own connections, but a piped authority is read
    // once and serves both.
    func testMirrorOfTwoHTTPSReplicasReadsAPipedAuthorityOnce() throws {
        let server = try startServer()
        let command = "'\(SnapProcess.binary)' -r '\(server)one' -r '\(server)two' --cacert <(cat '\(work)/ca.pem') "
            + "--password-file <(echo 'tls pw')"
        let environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SNAP_") }
        XCTAssertEqual(try runTool("/bin/bash", ["-c", command + " init -q"], environment: environment).status, 0)
        XCTAssertEqual(try runTool("/bin/bash", ["-c", command + " backup -q '\(work)/src'"], environment: environment).status, 0)
        for replica in ["one", "two"] {
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "\(work)/served/\(replica)/snapshots").count, 1, replica)
        }
    }

    // --insecure-tls reaches the server without its authority's certificate.
    func testInsecureTLSSkipsVerification() throws {
        let location = try startServer() + "insecure"
        try snap(location).expect(0, ["init", "--insecure-tls"])
        try snap(location).expect(0, ["snapshots", "--insecure-tls"])
        XCTAssertEqual(try snap(location).run(["snapshots"]).status, 1, "verification is on without the flag")
    }

    // A server that asks for a client certificate refuses snap without one, with a line
    // that names --tls-client-cert, and lets it in with one.
    func testClientCertificate() throws {
        let location = try startServer(clientCA: true) + "client"
        let withCA = ["--cacert", "\(work)/ca.pem"]
        let refused = try snap(location).run(["init"] + withCA)
        XCTAssertEqual(refused.status, 1, refused.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(work)/served/client/config"))
        try snap(location).expect(0, ["init", "--tls-client-cert", "\(work)/client.pem"] + withCA)
        try snap(location, ["SNAP_TLS_CLIENT_CERT": "\(work)/client.pem"]).expect(0, ["backup", "\(work)/src", "-q"] + withCA)
        let refusedRead = try snap(location).run(["snapshots"] + withCA)
        XCTAssertEqual(refusedRead.status, 1)
        // The server's alert, or a reset when it lands while snap still sends: which one
        // depends on timing, so only the error's form is asserted.
        XCTAssertTrue(refusedRead.stderr.split(separator: "\n").last?.hasPrefix("snap: cannot ") ?? false, refusedRead.stderr)
    }

    // Files that cannot serve are named before anything is sent: a missing file, a key
    // given as an authority, a certificate without its key, a fifo no one writes to (which
    // must not hang: it is given 10 s).
    func testUnusableFilesAreNamed() throws {
        let location = "rest:https://127.0.0.1:9/never"
        XCTAssertEqual(mkfifo("\(work)/fifo", 0o600), 0)
        let cases: [([String], String)] = [
            (["--cacert", "\(work)/absent.pem"], "--cacert \(work)/absent.pem cannot be opened: No such file or directory"),
            (["--cacert", "\(work)/server.key"], "holds no PEM certificate"),
            (["--cacert", "\(work)/fifo"], "--cacert \(work)/fifo gave no data for 10 s"),
            (["--cacert", work], "--cacert \(work) is a folder"),
            (["--tls-client-cert", "\(work)/client.crt"], "must hold the client's certificate and its private key"),
        ]
        for (arguments, expected) in cases {
            let result = try snap(location).run(["snapshots"] + arguments)
            XCTAssertEqual(result.status, 1, "\(arguments)")
            XCTAssertTrue(result.stderr.contains(expected), "\(arguments): \(result.stderr)")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
        }
        // A local repository has no use for them, but a file given on the command line is
        // still checked (a mistake is not passed over); one a variable names is not.
        let local = "\(work)/local-repo"
        try snap(local).expect(0, ["init"])
        let given = try snap(local).run(["snapshots", "--cacert", "\(work)/absent.pem"])
        XCTAssertEqual(given.status, 1, given.stderr)
        XCTAssertTrue(given.stderr.contains("--cacert \(work)/absent.pem cannot be opened"), given.stderr)
        let keyless = try snap(local).run(["snapshots", "--tls-client-cert", "\(work)/client.crt"])
        XCTAssertTrue(keyless.stderr.contains("must hold the client's certificate and its private key"), keyless.stderr)
        try snap(local, ["SNAP_CACERT": "\(work)/absent.pem"]).expect(0, ["snapshots"])
        // A file named by a variable is named with the variable; AWS's AWS_CA_BUNDLE counts
        // for S3 repositories only.
        let variable = try snap(location, ["SNAP_CACERT": "\(work)/absent.pem"]).run(["snapshots"])
        XCTAssertTrue(variable.stderr.contains("$SNAP_CACERT \(work)/absent.pem cannot be opened"), variable.stderr)
        let client = try snap(location, ["SNAP_TLS_CLIENT_CERT": "\(work)/client.crt"]).run(["snapshots"])
        XCTAssertTrue(client.stderr.contains("$SNAP_TLS_CLIENT_CERT \(work)/client.crt must hold"), client.stderr)
        let aws = ["AWS_CA_BUNDLE": "\(work)/absent.pem", "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"]
        let s3 = try snap("s3:https://127.0.0.1:9/bucket", aws).run(["snapshots"])
        XCTAssertTrue(s3.stderr.contains("$AWS_CA_BUNDLE \(work)/absent.pem cannot be opened"), s3.stderr)
        let rest = try snap(try startServer() + "aws", aws).run(["init"])
        XCTAssertEqual(rest.status, 1)
        XCTAssertTrue(rest.stderr.contains("certificate") && !rest.stderr.contains("AWS_CA_BUNDLE"), rest.stderr)
    }
}
