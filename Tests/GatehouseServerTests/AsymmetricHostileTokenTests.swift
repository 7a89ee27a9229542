import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Gatehouse
@testable import GatehouseJWT
@testable import GatehouseServer

/// The JWT attack table for asymmetric keys (SPEC.md §3.7), for each key type, over HTTP
/// against the access-token guard on a server with an audience and, besides its
/// signing key, a previous key of another type. Every attack starts from a real token of
/// a real session. Refresh tokens stay HS256 and are HostileTokenTests' table.
@Suite struct AsymmetricHostileTokenTests {
    enum Attack: String, Sendable, CaseIterable {
        case hs256WithTheAccessSecret, hs256WithTheRefreshSecret, hs256WithThePublicKeyPEM, hs256WithTheJWK, hs256UnderOurKid
        case algNoneWithOurKid, algNoneSignedWithOurKey, missingKid, unknownKid, emptyKid, kidOfThePreviousKey, kidNotAString
        case otherAlgorithmUnderOurKid, anotherKeyOfTheSameTypeUnderOurKid, anotherKeyOfTheSameTypeUnderItsKid
        case payloadTamperedToAdmin, signatureOfAnotherToken, signatureTruncated, signatureWithAnExtraByte
        case signatureNonCanonicalBase64, signatureZero, signatureInDERForm, es256HighS
        case jwkHeaderWithOurSignature, jkuHeaderWithOurSignature, x5cHeaderWithOurSignature, critHeaderWithOurSignature
        case typNotJWT, wrongIssuer, audienceMismatch, expiredBeyondSkew, issuedInTheFuture
    }

    static let audience = "gatehouse-api"
    /// The previous key is of another type than the signing key.
    static func previous(for algorithm: JWTAlgorithm) -> JWTPrivateKey {
        algorithm == .edDSA ? TestKeys.es256 : TestKeys.edDSA
    }

    /// Header JSON, `alg` first.
    static func header(_ alg: String, kid: String?, extra: String = "") -> String {
        #"{"alg":"\#(alg)""# + (kid.map { #","kid":"\#($0)""# } ?? "") + extra + "}"
    }

    static func signed(header: String, payload: String, key: JWTPrivateKey) throws -> String {
        let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8))
        return input + "." + Base64URL.encode(try Array(input.utf8).withUnsafeBytes { try key.signature(for: $0) })
    }

    /// The attack's token from the real one, or `nil` when it does not apply to this key type.
    static func token(_ attack: Attack, real: String, other: String, settings: GatehouseConfiguration, now: Int) throws -> String? {
        let key = try #require(settings.privateKey)
        let alg = key.algorithm.rawValue
        let kid = key.publicKey.kid
        let parts = real.split(separator: ".").map(String.init)
        let claims = try payload(of: real)
        func json(_ object: [String: Any]) -> String {
            String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        }
        func with(_ changes: [String: Any?]) -> String {
            var object = claims
            for (name, value) in changes { object[name] = value }
            return json(object)
        }
        let original = json(claims)
        func resigned(_ signature: [UInt8]) -> String { parts[0] + "." + parts[1] + "." + Base64URL.encode(signature) }
        var signatureText = parts[2]
        let signature = try #require(signatureText.withUTF8 { Base64URL.decode($0) })
        let hs256 = HostileTokenTests.sign

        switch attack {
        case .hs256WithTheAccessSecret: return hs256(#"{"alg":"HS256","typ":"JWT"}"#, original, settings.accessSecret, "HS256")
        case .hs256WithTheRefreshSecret: return hs256(#"{"alg":"HS256","typ":"JWT"}"#, original, settings.refreshSecret, "HS256")
        case .hs256WithThePublicKeyPEM: return hs256(#"{"alg":"HS256","typ":"JWT"}"#, original, key.publicKey.pemRepresentation, "HS256")
        case .hs256WithTheJWK: return hs256(header("HS256", kid: kid), original, String(decoding: key.publicKey.jwk, as: UTF8.self), "HS256")
        case .hs256UnderOurKid: return hs256(header("HS256", kid: kid), original, settings.accessSecret, "HS256")
        case .algNoneWithOurKid: return HostileTokenTests.unsigned(header: header("none", kid: kid), payload: original)
        case .algNoneSignedWithOurKey: return try signed(header: header("none", kid: kid), payload: original, key: key)
        case .missingKid: return try signed(header: header(alg, kid: nil), payload: original, key: key)
        case .unknownKid: return try signed(header: header(alg, kid: "gatehouse-2025"), payload: original, key: key)
        case .emptyKid: return try signed(header: header(alg, kid: ""), payload: original, key: key)
        case .kidOfThePreviousKey:
            return try signed(header: header(alg, kid: previous(for: key.algorithm).publicKey.kid), payload: original, key: key)
        case .kidNotAString: return try signed(header: #"{"alg":"\#(alg)","kid":["\#(kid)"]}"#, payload: original, key: key)
        case .otherAlgorithmUnderOurKid:
            let other = key.algorithm == .rs256 ? "ES256" : "RS256"
            return try signed(header: header(other, kid: kid), payload: original, key: key)
        case .anotherKeyOfTheSameTypeUnderOurKid:
            return try signed(header: header(alg, kid: kid), payload: original, key: JWTPrivateKey.generate(key.algorithm))
        case .anotherKeyOfTheSameTypeUnderItsKid:
            let stranger = try JWTPrivateKey.generate(key.algorithm)
            return try signed(header: header(alg, kid: stranger.publicKey.kid), payload: original, key: stranger)
        case .payloadTamperedToAdmin:
            return parts[0] + "." + Base64URL.encode(Array(with(["role": "admin", "version": 99]).utf8)) + "." + parts[2]
        case .signatureOfAnotherToken: return parts[0] + "." + parts[1] + "." + other.split(separator: ".")[2]
        case .signatureTruncated: return resigned(Array(signature.dropLast()))
        case .signatureWithAnExtraByte: return resigned(signature + [0])
        case .signatureNonCanonicalBase64:
            // Same bytes, but the unused low bits of the last character set.
            var text = Array(parts[2].utf8)
            let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
            let value = try #require(alphabet.firstIndex(of: text[text.count - 1]))
            text[text.count - 1] = alphabet[value | 1]
            return parts[0] + "." + parts[1] + "." + String(decoding: text, as: UTF8.self)
        case .signatureZero: return resigned([UInt8](repeating: 0, count: signature.count))
        case .signatureInDERForm:
            guard key.algorithm == .es256 else { return nil }
            return resigned(Array(try P256.Signing.ECDSASignature(rawRepresentation: signature).derRepresentation))
        case .es256HighS:
            guard key.algorithm == .es256 else { return nil }
            return resigned(Array(signature[..<32]) + ECDSALowS.negate(signature[32...]))
        case .jwkHeaderWithOurSignature:
            let jwk = String(decoding: key.publicKey.jwk, as: UTF8.self)
            return try signed(header: header(alg, kid: kid, extra: #","jwk":\#(jwk)"#), payload: original, key: key)
        case .jkuHeaderWithOurSignature:
            return try signed(header: header(alg, kid: kid, extra: #","jku":"https://evil.example/jwks.json""#), payload: original, key: key)
        case .x5cHeaderWithOurSignature:
            return try signed(header: header(alg, kid: kid, extra: #","x5c":["MIIB"]"#), payload: original, key: key)
        case .critHeaderWithOurSignature:
            return try signed(header: header(alg, kid: kid, extra: #","crit":["exp"]"#), payload: original, key: key)
        case .typNotJWT: return try signed(header: header(alg, kid: kid, extra: #","typ":"at+jwt""#), payload: original, key: key)
        case .wrongIssuer: return try signed(header: header(alg, kid: kid), payload: with(["iss": "evil-issuer"]), key: key)
        case .audienceMismatch: return try signed(header: header(alg, kid: kid), payload: with(["aud": "other-api"]), key: key)
        case .expiredBeyondSkew:
            return try signed(header: header(alg, kid: kid), payload: with(["iat": now - 2_000, "exp": now - 31]), key: key)
        case .issuedInTheFuture:
            return try signed(header: header(alg, kid: kid), payload: with(["iat": now + 300, "exp": now + 1_200]), key: key)
        }
    }

    static func withVictim(
        _ algorithm: JWTAlgorithm,
        _ body: @Sendable (any TestClientProtocol, GatehouseConfiguration, _ real: String, _ other: String, TestClock) async throws -> Void
    ) async throws {
        let settings = TestServer.settings(
            audience: audience, signingKey: TestKeys.key(algorithm), previousPublicKeys: [previous(for: algorithm).publicKey]
        )
        let clock = TestClock()
        try await TestServer.withApp(settings, clock: clock) { client in
            let (auth, _) = try await client.registered(email: "victim@example.com")
            let (other, _) = try await client.registered(email: "bystander@example.com")
            try await body(client, settings, auth.accessToken, other.accessToken, clock)
        }
    }

    /// One server per key type, every attack against it in turn (one server per attack
    /// would start a hundred, and load the rest of the suite for nothing).
    @Test(arguments: TestKeys.asymmetric)
    func everyAttackIsRefused(algorithm: JWTAlgorithm) async throws {
        try await Self.withVictim(algorithm) { client, settings, real, other, clock in
            let now = Int(clock.now.timeIntervalSince1970)
            for attack in Attack.allCases {
                guard let forged = try Self.token(attack, real: real, other: other, settings: settings, now: now) else { continue }
                let expected = attack == .expiredBeyondSkew ? "Access token expired" : "Invalid access token"
                let response = try await client.get("/api/v1/users/me", bearer: forged)
                #expect(response.status == .unauthorized && response.error?.message == expected, "\(algorithm) \(attack): \(response.text)")
                #expect(response.headers[.wwwAuthenticate] != nil, "\(algorithm) \(attack)")
            }
            // None of it changed anything: the real token still works.
            let genuine = try await client.get("/api/v1/users/me", bearer: real)
            #expect(genuine.status == .ok, "\(genuine.text)")
        }
    }

    /// The table proves something only if the same construction with nothing wrong — a
    /// header Gatehouse did not write, so it is parsed, signed with the real key — is
    /// accepted; and a token of the previous key (another type) is too.
    @Test(arguments: TestKeys.asymmetric)
    func theUntamperedReconstructionIsAccepted(algorithm: JWTAlgorithm) async throws {
        try await Self.withVictim(algorithm) { client, settings, real, _, _ in
            let key = try #require(settings.privateKey)
            let original = String(decoding: try JSONSerialization.data(withJSONObject: try payload(of: real), options: [.sortedKeys]), as: UTF8.self)
            for header in [Self.header(key.algorithm.rawValue, kid: key.publicKey.kid), #"{"kid":"\#(key.publicKey.kid)","typ":"JWT","alg":"\#(key.algorithm.rawValue)"}"#] {
                let rebuilt = try Self.signed(header: header, payload: original, key: key)
                let response = try await client.get("/api/v1/users/me", bearer: rebuilt)
                #expect(response.status == .ok, "\(response.text)")
            }
            let previous = Self.previous(for: algorithm)
            let byPrevious = try Self.signed(header: Self.header(previous.algorithm.rawValue, kid: previous.publicKey.kid), payload: original, key: previous)
            #expect(try await client.get("/api/v1/users/me", bearer: byPrevious).status == .ok)
        }
    }
}
