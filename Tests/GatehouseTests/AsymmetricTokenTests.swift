import Crypto
import CryptoExtras
import Foundation
import Synchronization
import Testing

@testable import Gatehouse
@testable import GatehouseJWT

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
        // Back to HS256 with the key as previous: its tokens still pass, and the key is
        // still published.
        let backConfiguration = try Self.configuration(.hs256, previous: [new.publicKey])
        let back = Pair(backConfiguration)
        #expect(String(decoding: SigningKeys(configuration: backConfiguration).jwks, as: UTF8.self).contains(new.publicKey.kid))
        #expect(String(decoding: SigningKeys(configuration: try Self.configuration(.hs256)).jwks, as: UTF8.self) == #"{"keys":[]}"#)
        _ = try await back.verifier.verifyAccess(newToken)
        #expect(try Self.header(of: back.access())["alg"] == "HS256")
    }

    /// Refresh tokens stay HS256 under the refresh secret whatever signs access tokens
    /// (only Gatehouse reads them), and verify as before.
    @Test(arguments: TestKeys.asymmetric)
    func refreshTokensStayHS256(algorithm: JWTAlgorithm) async throws {
        let pair = Pair(try Self.configuration(algorithm))
        let refresh = pair.issuer.refreshToken(
            userID: UUID(uuidString: Fixture.userID)!, version: 3, sessionID: UUID(uuidString: Fixture.sessionID)!, generation: 2,
            issuedAt: Fixture.now
        )
        #expect(try Self.header(of: refresh) == ["alg": "HS256", "typ": "JWT"])
        #expect(try await pair.verifier.verifyRefresh(refresh).gen == 2)
        // An access token of the private key is never a refresh token.
        await #expect(throws: TokenError.invalid) { try await pair.verifier.verifyRefresh(pair.access()) }
    }

    /// No secret, current or previous, ever reaches the JWK Set: under HS256 with previous
    /// secrets it is empty, and with a previous public key it holds that key alone.
    @Test func theKeySetNeverHoldsASecret() throws {
        let hs256 = try Self.configuration(
            .hs256, previousAccessSecret: "old-access-secret-old-access-secret-0123",
            previousRefreshSecret: "old-refresh-secret-old-refresh-secret-012"
        )
        #expect(String(decoding: SigningKeys(configuration: hs256).jwks, as: UTF8.self) == #"{"keys":[]}"#)
        let withPrevious = try Self.configuration(
            .hs256, previous: [TestKeys.edDSA.publicKey], previousAccessSecret: "old-access-secret-old-access-secret-0123",
            previousRefreshSecret: "old-refresh-secret-old-refresh-secret-012"
        )
        let text = String(decoding: SigningKeys(configuration: withPrevious).jwks, as: UTF8.self)
        let jwks = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: [[String: String]]])
        #expect(jwks["keys"]?.map { $0["kid"] } == [TestKeys.edDSA.publicKey.kid])
        #expect(jwks["keys"]?.allSatisfy { $0["kty"] != "oct" && $0["k"] == nil } == true)
        for secret in [Self.accessSecret, Self.refreshSecret, "old-access-secret", "old-refresh-secret"] {
            #expect(!text.contains(secret) && !text.contains(Base64URL.encode(Array(secret.utf8))))
        }
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
}

extension Fixture {
    /// A valid access payload at `Fixture.now`.
    static func accessPayloadJSON() -> String {
        #"{"sub":"\#(userID)","role":"admin","version":3,"sid":"\#(sessionID)","iat":\#(now),"exp":\#(now + 600),"iss":"gatehouse"}"#
    }
}
