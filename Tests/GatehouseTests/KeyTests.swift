import Crypto
import CryptoExtras
import Foundation
import Synchronization
import Testing

@testable import Gatehouse
@testable import GatehouseJWT

/// A clock tests move by hand.
final class ManualClock: Sendable {
    let seconds: Atomic<Int>
    init(_ seconds: Int = Fixture.now) { self.seconds = Atomic(seconds) }
    var now: @Sendable () -> Date { { Date(timeIntervalSince1970: TimeInterval(self.seconds.load(ordering: .relaxed))) } }
    func advance(_ by: Int) { seconds.add(by, ordering: .relaxed) }
}

/// One key per asymmetric algorithm, made once (RSA key generation is slow).
enum TestKeys {
    static let edDSA = try! JWTPrivateKey.generate(.edDSA)
    static let es256 = try! JWTPrivateKey.generate(.es256)
    static let rs256 = try! JWTPrivateKey.generate(.rs256)

    static func key(_ algorithm: JWTAlgorithm) -> JWTPrivateKey {
        switch algorithm {
        case .edDSA: edDSA
        case .es256: es256
        case .rs256: rs256
        case .hs256: fatalError("HS256 has no key")
        }
    }

    static let asymmetric: [JWTAlgorithm] = [.edDSA, .es256, .rs256]
}

/// Reading keys (PEM forms, what is refused and why), their `kid`s, and the key settings'
/// validation (SPEC.md §3.7).
@Suite struct KeyTests {
    static let accessSecret = AsymmetricTokenTests.accessSecret
    static let refreshSecret = AsymmetricTokenTests.refreshSecret

    @Test func theKidIsTheRFC7638Thumbprint() throws {
        // RFC 8037 appendix A.3.
        let jwk = #"{"crv":"Ed25519","kty":"OKP","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#
        guard case .object(let object)? = JSONParser.parse(Array(jwk.utf8)) else { Issue.record("not JSON"); return }
        let key = try #require(JWTPublicKey(jwk: object))
        #expect(key.kid == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k")
        #expect(key.algorithm == .edDSA)
    }

    /// Runs openssl with `arguments`; its standard output.
    static func openssl(_ arguments: [String], input: String? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        let output = Pipe(), stdin = Pipe()
        process.standardOutput = output
        process.standardError = Pipe()
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try stdin.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "openssl \(arguments) failed")
        return String(decoding: data, as: UTF8.self)
    }

    /// The PEM forms `openssl` writes: PKCS#8 from `genpkey` for all three types, SEC1
    /// from `ecparam -genkey`, PKCS#1 from `genrsa -traditional`; and the public keys
    /// `openssl pkey -pubout` derives have the same `kid` as Gatehouse computes.
    @Test(arguments: [
        (["genpkey", "-algorithm", "ed25519"], JWTAlgorithm.edDSA, "-----BEGIN PRIVATE KEY-----"),
        (["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"], .es256, "-----BEGIN PRIVATE KEY-----"),
        (["ecparam", "-name", "prime256v1", "-genkey", "-noout"], .es256, "-----BEGIN EC PRIVATE KEY-----"),
        (["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"], .rs256, "-----BEGIN PRIVATE KEY-----"),
        (["genrsa", "-traditional", "2048"], .rs256, "-----BEGIN RSA PRIVATE KEY-----"),
    ])
    func opensslKeysAreRead(command: [String], algorithm: JWTAlgorithm, form: String) throws {
        let pem = try Self.openssl(command)
        #expect(pem.hasPrefix(form))
        let key = try JWTPrivateKey(pemRepresentation: pem)
        #expect(key.algorithm == algorithm)
        let publicPEM = try Self.openssl(["pkey", "-pubout"], input: pem)
        #expect(try JWTPublicKey(pemRepresentation: publicPEM).kid == key.publicKey.kid)
        // What Gatehouse writes, openssl reads back as the same key.
        #expect(try Self.openssl(["pkey", "-pubout"], input: key.pemRepresentation) == publicPEM)
    }

    @Test func smallRSAKeysAreRefusedWithTheirSize() throws {
        let pem = try Self.openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"])
        #expect(throws: JWTKeyError.rsaTooSmall(bits: 1024)) { try JWTPrivateKey(pemRepresentation: pem) }
        #expect(throws: JWTKeyError.rsaTooSmall(bits: 1024)) { try JWTPublicKey(pemRepresentation: try Self.openssl(["pkey", "-pubout"], input: pem)) }
    }

    @Test func keyConfigurationProblemsNameTheirVariable() throws {
        func problems(_ body: () throws -> GatehouseConfiguration) -> [String] {
            do {
                _ = try body()
                return []
            } catch let error as ConfigurationErrors {
                return error.errors.map { "\($0)" }
            } catch {
                return ["\(error)"]
            }
        }
        func make(
            _ algorithm: JWTAlgorithm, key: JWTPrivateKey?, previousAccess: String? = nil, previousRefresh: String? = nil, cache: Int = 10
        ) throws -> GatehouseConfiguration {
            try GatehouseConfiguration(
                accessSecret: Self.accessSecret, refreshSecret: Self.refreshSecret, algorithm: algorithm, privateKey: key,
                previousAccessSecret: previousAccess, previousRefreshSecret: previousRefresh, verifiedTokenCacheCapacity: cache
            )
        }
        #expect(problems { try make(.edDSA, key: nil) } == ["JWT_PRIVATE_KEY_FILE is required when JWT_ALGORITHM is EdDSA"])
        #expect(problems { try make(.es256, key: TestKeys.edDSA) } == ["JWT_PRIVATE_KEY_FILE holds a key for EdDSA, not ES256"])
        #expect(problems { try make(.hs256, key: TestKeys.edDSA) } == ["JWT_PRIVATE_KEY_FILE is only used with JWT_ALGORITHM EdDSA, ES256 or RS256"])
        #expect(problems { try make(.hs256, key: nil, previousAccess: "short") } == ["JWT_ACCESS_SECRET_PREVIOUS must be at least 32 characters"])
        #expect(problems { try make(.hs256, key: nil, previousAccess: Self.refreshSecret) } == ["JWT_ACCESS_SECRET_PREVIOUS must differ from the refresh secrets"])
        #expect(problems { try make(.hs256, key: nil, previousRefresh: Self.accessSecret) } == ["JWT_REFRESH_SECRET_PREVIOUS must differ from JWT_ACCESS_SECRET"])
        #expect(problems { try make(.hs256, key: nil, previousAccess: Self.accessSecret) } == ["JWT_ACCESS_SECRET_PREVIOUS must differ from JWT_ACCESS_SECRET (it is the secret being replaced)"])
        #expect(problems { try make(.hs256, key: nil, previousRefresh: Self.refreshSecret) } == ["JWT_REFRESH_SECRET_PREVIOUS must differ from JWT_REFRESH_SECRET (it is the secret being replaced)"])
        #expect(problems { try make(.edDSA, key: TestKeys.edDSA, previousAccess: String(repeating: "p", count: 40)) } == ["JWT_ACCESS_SECRET_PREVIOUS is only accepted when JWT_ALGORITHM is HS256"])
        #expect(problems { try make(.hs256, key: nil, cache: -1) } == ["ACCESS_TOKEN_CACHE must be a whole number from 0 to 1000000"])
        #expect(problems { try make(.rs256, key: TestKeys.rs256) } == [])
        #expect(!"\(try make(.edDSA, key: TestKeys.edDSA))".contains("PRIVATE"))
    }

    @Test func keysThatAreNotSupportedAreRefusedWithAReason() throws {
        #expect(throws: JWTKeyError.unsupported) { try JWTPrivateKey(pemRepresentation: "not a key") }
        #expect(throws: JWTKeyError.unsupported) { try JWTPublicKey(pemRepresentation: P384.Signing.PrivateKey().publicKey.pemRepresentation) }
        #expect(throws: JWTKeyError.unsupported) { try JWTPrivateKey(pemRepresentation: P384.Signing.PrivateKey().pemRepresentation) }
        #expect(throws: JWTKeyError.encrypted) { try JWTPrivateKey(pemRepresentation: "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n") }
        #expect(throws: JWTKeyError.symmetricAlgorithm) { try JWTPrivateKey.generate(.hs256) }
        // swift-crypto reads any PKCS#8 as a Curve25519 key: an X25519 key, or an Ed25519
        // key whose algorithm was changed to X25519, is not a signing key.
        #expect(throws: JWTKeyError.unsupported) { try JWTPrivateKey(pemRepresentation: Curve25519.KeyAgreement.PrivateKey().pemRepresentation) }
        var der = Array(try #require(PEM.der(TestKeys.edDSA.pemRepresentation)))
        der[11] = 0x6E
        let relabelled = "-----BEGIN PRIVATE KEY-----\n\(Data(der).base64EncodedString())\n-----END PRIVATE KEY-----\n"
        #expect(throws: JWTKeyError.unsupported) { try JWTPrivateKey(pemRepresentation: relabelled) }
        // Windows line endings and text around the block are fine.
        for key in [TestKeys.edDSA, TestKeys.es256, TestKeys.rs256] {
            let crlf = "A key\r\n" + key.pemRepresentation.replacingOccurrences(of: "\n", with: "\r\n") + "trailing note\r\n"
            #expect(try JWTPrivateKey(pemRepresentation: crlf).publicKey.kid == key.publicKey.kid)
            let publicCRLF = key.publicKey.pemRepresentation.replacingOccurrences(of: "\n", with: "\r\n")
            #expect(try JWTPublicKey(pemRepresentation: publicCRLF).kid == key.publicKey.kid)
        }
        // A private key's PEM gives its public key.
        #expect(try JWTPublicKey(pemRepresentation: TestKeys.es256.pemRepresentation).kid == TestKeys.es256.publicKey.kid)
    }
}
