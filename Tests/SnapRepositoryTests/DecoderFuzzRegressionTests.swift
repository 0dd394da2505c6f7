import XCTest
import SnapCore
import SnapCrypto
import SnapStorage
import SnapTestSupport
@testable import SnapRepository

/// Inputs found by fuzzing the decoders (scripts/fuzz.sh, docs/fuzzing.md), and the checks
/// the fuzz harness relies on. Each must be refused with a typed error, never a crash.
final class DecoderFuzzRegressionTests: XCTestCase {
    private let keys = MasterKeys(encryption: [UInt8](repeating: 0x11, count: 32), id: [UInt8](repeating: 0x22, count: 32),
                                  chunker: [UInt8](repeating: 0x33, count: 32))

    private func bytes(hex: String) throws -> [UInt8] { try XCTUnwrap(Hex.decode(hex)) }

    // Fuzz target `pack`: a pack listed 48 bytes longer than the 48 bytes its server returns.
    // The trailer read came back short and slicing the salt out of it trapped.
    func testPackWhoseReadsComeBackShortIsDamaged() throws {
        let data = try bytes(hex: "00c80350027a2cf021ec14d930648e5898ca0ae6090909090909090909fdf6f6fffff6f6f609090909090909120000f9")
        let listedSize = data.count + 0x30
        let error = errorThrown {
            _ = try PackFormat.readHeader(of: PackID(raw: RawID(w0: 0, w1: 0, w2: 0, w3: 0)), size: listedSize, keys: keys) { range in
                Array(data[min(range.lowerBound, data.count)..<min(range.upperBound, data.count)])
            }
        }
        XCTAssertTrue(isDamaged(error), "\(String(describing: error))")
    }

    // The header read may come back short too (the trailer is whole, the header is not).
    func testPackWhoseHeaderReadComesBackShortIsDamaged() throws {
        var trailer = [UInt8](repeating: 9, count: PackFormat.saltLength)
        trailer += [64, 0, 0, 0]  // a 64-byte header
        let data = [UInt8](repeating: 0, count: 100) + trailer
        let error = errorThrown {
            _ = try PackFormat.readHeader(of: PackID(raw: RawID(w0: 0, w1: 0, w2: 0, w3: 0)), size: data.count, keys: keys) { range in
                range.upperBound == data.count ? Array(data[range]) : Array(data[range].prefix(10))
            }
        }
        XCTAssertTrue(isDamaged(error), "\(String(describing: error))")
    }

    // The fuzzer checks key files up to the KDF and opens their payload with a fixed KEK:
    // hostile costs are refused before scrypt, and a wrong KEK gives nil, not a crash.
    func testKeyFileChecksBeforeTheKDFAndOpensWithAKEK() throws {
        let kek = [UInt8](repeating: 0x44, count: 32)
        let nonce = [UInt8](repeating: 7, count: AESGCM.nonceLength)
        let payload = [KeyFile.payloadVersion] + keys.encryption + keys.id + keys.chunker
        let sealed = try AESGCM(key: kek).seal(payload, nonce: nonce, aad: KeyFile.aad(created: "c", hostname: "h", username: "u"))
        var file = KeyFile(version: 1, created: "c", hostname: "h", username: "u", kdf: "scrypt", n: 1 << 15, r: 8, p: 1,
                           salt: Data([1, 2, 3]).base64EncodedString(), data: Data(nonce + sealed).base64EncodedString())
        let parts = try file.sealedPayload()
        XCTAssertEqual(try file.open(parts.bytes, kek: kek), keys)
        XCTAssertNil(try file.open(parts.bytes, kek: [UInt8](repeating: 0, count: 32)))
        XCTAssertTrue(isDamaged(errorThrown { _ = try file.open(Array(parts.bytes.dropLast()), kek: kek) }))

        for (n, r, p) in [(UInt64(1) << 25, UInt64(8), UInt64(1)), (1 << 15, 65, 1), (1 << 15, 8, 65), (3, 8, 1), (1, 8, 1), (1 << 15, 0, 1)] {
            file.n = n; file.r = r; file.p = p
            XCTAssertTrue(isDamaged(errorThrown { _ = try file.sealedPayload() }), "n=\(n) r=\(r) p=\(p)")
        }
    }
}
