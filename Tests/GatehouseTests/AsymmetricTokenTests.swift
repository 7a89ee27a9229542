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

/// Asymmetric signing and verification (SPEC.md §3.7) at the library level: keys, `kid`s,
/// algorithm pinning, the ES256 low-S rule, rotation's previous keys and secrets, and
/// the verified-token cache.
@Suite struct AsymmetricTokenTests {
    static let accessSecret = "access-secret-access-secret-access-secret"
    static let refreshSecret = "refresh-secret-refresh-secret-refresh-secret"

    static func configuration(
        _ algorithm: JWTAlgorithm, key: JWTPrivateKey? = nil, previous: [JWTPublicKey] = [], previousAccessSecret: String? = nil,
        previousRefreshSecret: String? = nil, accessSecret: String = accessSecret, refreshSecret: String = refreshSecret, cache: Int = 100
    ) throws -> GatehouseConfiguration {
        try GatehouseConfiguration(
            accessSecret: accessSecret, refreshSecret: refreshSecret, algorithm: algorithm,
            privateKey: key ?? (algorithm.isAsymmetric ? TestKeys.key(algorithm) : nil), previousPublicKeys: previous,
            previousAccessSecret: previousAccessSecret, previousRefreshSecret: previousRefreshSecret, verifiedTokenCacheCapacity: cache
        )
    }

    struct Pair {
        let issuer: TokenIssuer
        let verifier: TokenVerifier
        let revocations: RevocationList

        init(_ configuration: GatehouseConfiguration, clock: ManualClock = ManualClock()) {
            let keys = SigningKeys(configuration: configuration)
            issuer = TokenIssuer(keys: keys, configuration: configuration)
            revocations = RevocationList(configuration: configuration)
            verifier = TokenVerifier(keys: keys, configuration: configuration, revocations: revocations, now: clock.now)
        }

        func access(user: String = Fixture.userID, iat: Int = Fixture.now) -> String {
            issuer.accessToken(
                userID: UUID(uuidString: user)!, role: .user, version: 3, sessionID: UUID(uuidString: Fixture.sessionID)!, issuedAt: iat
            )
        }
    }

    static func header(of token: String) throws -> [String: String] {
        let bytes = try #require(Base64URL.decode(token.split(separator: ".")[0]))
        return try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: String])
    }

    /// Replaces a token's signature segment.
    static func resigned(_ token: String, _ signature: [UInt8]) -> String {
        let parts = token.split(separator: ".")
        return parts[0] + "." + parts[1] + "." + Base64URL.encode(signature)
    }

    @Test func theKidIsTheRFC7638Thumbprint() throws {
        // RFC 8037 appendix A.3.
        let jwk = #"{"crv":"Ed25519","kty":"OKP","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#
        guard case .object(let object)? = JSONParser.parse(Array(jwk.utf8)) else { Issue.record("not JSON"); return }
        let key = try #require(JWTPublicKey(jwk: object))
        #expect(key.kid == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k")
        #expect(key.algorithm == .edDSA)
    }

    @Test(arguments: TestKeys.asymmetric)
    func tokensCarryTheKidAndVerify(algorithm: JWTAlgorithm) async throws {
        let key = TestKeys.key(algorithm)
        let pair = Pair(try Self.configuration(algorithm))
        let token = pair.access()
        #expect(try Self.header(of: token) == ["alg": algorithm.rawValue, "typ": "JWT", "kid": key.publicKey.kid])
        #expect(try await pair.verifier.verifyAccess(token).sub == Fixture.userID)
        // The PEM the key is stored as reads back as the same key.
        let reread = try JWTPrivateKey(pemRepresentation: key.pemRepresentation)
        #expect(reread.publicKey.kid == key.publicKey.kid)
        #expect(key.pemRepresentation.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        #expect(try JWTPublicKey(pemRepresentation: key.publicKey.pemRepresentation).kid == key.publicKey.kid)
        // The JWK Set holds the public key and nothing private.
        let jwks = try #require(try JSONSerialization.jsonObject(with: Data(SigningKeys(configuration: Self.configuration(algorithm)).jwks)) as? [String: [[String: String]]])
        let published = try #require(jwks["keys"]?.first)
        #expect(jwks["keys"]?.count == 1)
        #expect(published["kid"] == key.publicKey.kid && published["alg"] == algorithm.rawValue && published["use"] == "sig")
        #expect(Set(published.keys).isDisjoint(with: ["d", "p", "q", "dp", "dq", "qi", "k"]))
        // …and reads back as a key that verifies the token.
        guard case .object(let object)? = JSONParser.parse(Array(try JSONSerialization.data(withJSONObject: published))) else {
            Issue.record("not JSON")
            return
        }
        let downstream = AccessTokenVerifier(
            keys: AccessTokenKeys(publicKeys: [try #require(JWTPublicKey(jwk: object))]), issuer: "gatehouse", audience: nil,
            now: { Date(timeIntervalSince1970: TimeInterval(Fixture.now)) }
        )
        #expect(try downstream.verify(token).sub == Fixture.userID)
    }

    @Test(arguments: TestKeys.asymmetric)
    func anotherKeyOfTheSameTypeIsRefusedEvenUnderOurKid(algorithm: JWTAlgorithm) async throws {
        let pair = Pair(try Self.configuration(algorithm))
        let impostor = Pair(try Self.configuration(algorithm, key: JWTPrivateKey.generate(algorithm)))
        let forged = impostor.access()
        await #expect(throws: TokenError.invalid) { try await pair.verifier.verifyAccess(forged) }
        // The impostor's signature under our header (our kid): still refused.
        let ours = pair.access().split(separator: ".")
        let theirs = forged.split(separator: ".")
        await #expect(throws: TokenError.invalid) { try await pair.verifier.verifyAccess("\(ours[0]).\(theirs[1]).\(theirs[2])") }
    }

    @Test func es256SignaturesAreRawWithLowS() async throws {
        let pair = Pair(try Self.configuration(.es256))
        for second in 0..<40 {
            let token = pair.access(iat: Fixture.now - second)
            let signature = try #require(Base64URL.decode(token.split(separator: ".")[2]))
            #expect(signature.count == 64)
            #expect(ECDSALowS.isLow(signature[32...]), "Gatehouse signs with low S")
            _ = try await pair.verifier.verifyAccess(token)
            // Its twin (r, n − s) is a valid ECDSA signature too, and refused.
            let twin = Array(signature[..<32]) + ECDSALowS.negate(signature[32...])
            let key = TestKeys.es256.publicKey
            let signed = Array(token.split(separator: ".")[0...1].joined(separator: ".").utf8)
            guard case .p256(let p256) = key.material else { Issue.record("not P-256"); return }
            #expect(p256.isValidSignature(try P256.Signing.ECDSASignature(rawRepresentation: twin), for: signed))
            await #expect(throws: TokenError.invalid) { try await pair.verifier.verifyAccess(Self.resigned(token, twin)) }
            // The same signature in DER form: refused.
            let der = Array(try P256.Signing.ECDSASignature(rawRepresentation: signature).derRepresentation)
            await #expect(throws: TokenError.invalid) { try await pair.verifier.verifyAccess(Self.resigned(token, der)) }
        }
    }

    @Test(arguments: TestKeys.asymmetric)
    func noHS256TokenPassesUnderAnAsymmetricAlgorithm(algorithm: JWTAlgorithm) async throws {
        let pair = Pair(try Self.configuration(algorithm))
        let payload = Fixture.accessPayloadJSON()
        let publicPEM = TestKeys.key(algorithm).publicKey.pemRepresentation
        for secret in [Self.accessSecret, Self.refreshSecret, publicPEM] {
            for header in [#"{"alg":"HS256","typ":"JWT"}"#, #"{"alg":"HS256","kid":"\#(TestKeys.key(algorithm).publicKey.kid)"}"#] {
                let token = forge(header: header, payload: payload, secret: secret)
                await #expect(throws: TokenError.invalid) { try await pair.verifier.verifyAccess(token) }
            }
        }
        // The JWK's own bytes as an HMAC key, under the key's kid and every algorithm name.
        let jwk = String(decoding: TestKeys.key(algorithm).publicKey.jwk, as: UTF8.self)
        for alg in ["HS256", "EdDSA", "ES256", "RS256", "none"] {
            let token = forge(header: #"{"alg":"\#(alg)","kid":"\#(TestKeys.key(algorithm).publicKey.kid)"}"#, payload: payload, secret: jwk)
            await #expect(throws: TokenError.invalid) { try await pair.verifier.verifyAccess(token) }
        }
    }

    @Test func eachKeyVerifiesOnlyItsOwnAlgorithm() async throws {
        // All three keys accepted (one current, two previous); a token signed by one key
        // but labelled with another algorithm, or another key's kid, is refused.
        let pair = Pair(try Self.configuration(.edDSA, previous: [TestKeys.es256.publicKey, TestKeys.rs256.publicKey]))
        for algorithm in TestKeys.asymmetric {
            let signer = Pair(try Self.configuration(algorithm))
            let token = signer.access()
            _ = try await pair.verifier.verifyAccess(token)
            let parts = token.split(separator: ".")
            for other in TestKeys.asymmetric where other != algorithm {
                for header in [
                    #"{"alg":"\#(other.rawValue)","typ":"JWT","kid":"\#(TestKeys.key(algorithm).publicKey.kid)"}"#,
                    #"{"alg":"\#(algorithm.rawValue)","typ":"JWT","kid":"\#(TestKeys.key(other).publicKey.kid)"}"#,
                ] {
                    let relabelled = Base64URL.encode(Array(header.utf8)) + "." + parts[1] + "." + parts[2]
                    await #expect(throws: TokenError.invalid) { try await pair.verifier.verifyAccess(relabelled) }
                }
            }
            // No kid, an unknown kid.
            for header in [#"{"alg":"\#(algorithm.rawValue)","typ":"JWT"}"#, #"{"alg":"\#(algorithm.rawValue)","kid":"unknown"}"#] {
                let relabelled = Base64URL.encode(Array(header.utf8)) + "." + parts[1] + "." + parts[2]
                await #expect(throws: TokenError.invalid) { try await pair.verifier.verifyAccess(relabelled) }
            }
        }
    }

    @Test func previousKeysAreAcceptedAndAKeyNotYetPublishedIsNot() async throws {
        let old = TestKeys.edDSA
        let new = try JWTPrivateKey.generate(.edDSA)
        let before = Pair(try Self.configuration(.edDSA, key: old))
        let next = Pair(try Self.configuration(.edDSA, key: old, previous: [new.publicKey]))
        let after = Pair(try Self.configuration(.edDSA, key: new, previous: [old.publicKey]))
        let retired = Pair(try Self.configuration(.edDSA, key: new))
        let oldToken = before.access()
        let newToken = after.access()
        _ = try await after.verifier.verifyAccess(oldToken)
        _ = try await next.verifier.verifyAccess(newToken)
        await #expect(throws: TokenError.invalid) { try await before.verifier.verifyAccess(newToken) }
        await #expect(throws: TokenError.invalid) { try await retired.verifier.verifyAccess(oldToken) }
        // Back to HS256 with the key as previous: its tokens still pass.
        let back = Pair(try Self.configuration(.hs256, previous: [new.publicKey]))
        _ = try await back.verifier.verifyAccess(newToken)
        #expect(try Self.header(of: back.access())["alg"] == "HS256")
    }

    @Test func previousSecretsVerifyButNeverSign() async throws {
        let newAccess = "new-access-secret-new-access-secret-0123"
        let newRefresh = "new-refresh-secret-new-refresh-secret-012"
        let old = Pair(try Self.configuration(.hs256))
        let rotated = Pair(try Self.configuration(
            .hs256, previousAccessSecret: Self.accessSecret, previousRefreshSecret: Self.refreshSecret, accessSecret: newAccess,
            refreshSecret: newRefresh
        ))
        let fresh = Pair(try Self.configuration(.hs256, accessSecret: newAccess, refreshSecret: newRefresh))
        _ = try await rotated.verifier.verifyAccess(old.access())
        let refresh = old.issuer.refreshToken(
            userID: UUID(uuidString: Fixture.userID)!, version: 3, sessionID: UUID(uuidString: Fixture.sessionID)!, generation: 1,
            issuedAt: Fixture.now
        )
        #expect(try await rotated.verifier.verifyRefresh(refresh).gen == 1)
        // What the rotated configuration signs is signed with the new secrets only.
        _ = try await fresh.verifier.verifyAccess(rotated.access())
        await #expect(throws: TokenError.invalid) { try await old.verifier.verifyAccess(rotated.access()) }
        // A previous access secret never verifies refresh tokens, nor the reverse.
        let crossed = forge(header: #"{"alg":"HS256","typ":"JWT"}"#, payload: Fixture.accessPayloadJSON(), secret: Self.refreshSecret)
        await #expect(throws: TokenError.invalid) { try await rotated.verifier.verifyAccess(crossed) }
    }

    @Test func theCacheRemembersVerifiedTokensButStillChecksTimeAndRevocation() async throws {
        let clock = ManualClock()
        let pair = Pair(try Self.configuration(.edDSA), clock: clock)
        let token = pair.access()
        _ = try await pair.verifier.verifyAccess(token)
        _ = try await pair.verifier.verifyAccess(token)
        #expect(pair.verifier.access.cachedTokens == 1)
        // Refused tokens are not remembered.
        _ = try? await pair.verifier.verifyAccess(token + "x")
        #expect(pair.verifier.access.cachedTokens == 1)
        // Revocation is consulted on a hit.
        pair.revocations.apply(
            [RevocationChange(sequence: 1, userID: UUID(uuidString: Fixture.userID)!, kind: .version(4), at: Fixture.now)], now: Fixture.now
        )
        await #expect(throws: TokenError.revoked) { try await pair.verifier.verifyAccess(token) }
        // A remembered token expires when the token does: 900 s plus 30 s of skew.
        let other = pair.access(user: "0b1e6d0c-3f43-4c0e-9c8c-0d8d3c1e9a11")
        _ = try await pair.verifier.verifyAccess(other)
        clock.advance(929)
        _ = try await pair.verifier.verifyAccess(other)
        clock.advance(1)
        await #expect(throws: TokenError.expired) { try await pair.verifier.verifyAccess(other) }
    }

    @Test func theCacheIsBounded() async throws {
        let pair = Pair(try Self.configuration(.edDSA, cache: 10))
        for second in 0..<25 {
            _ = try await pair.verifier.verifyAccess(pair.access(iat: Fixture.now - second))
            #expect(pair.verifier.access.cachedTokens <= 10)
        }
        #expect(pair.verifier.access.cachedTokens > 0)
        let off = Pair(try Self.configuration(.edDSA, cache: 0))
        _ = try await off.verifier.verifyAccess(off.access())
        #expect(off.verifier.access.cachedTokens == 0)
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

extension Fixture {
    /// A valid access payload at `Fixture.now`.
    static func accessPayloadJSON() -> String {
        #"{"sub":"\#(userID)","role":"admin","version":3,"sid":"\#(sessionID)","iat":\#(now),"exp":\#(now + 600),"iss":"gatehouse"}"#
    }
}
