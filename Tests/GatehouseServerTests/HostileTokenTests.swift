import Crypto
import Foundation
import Gatehouse
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Gatehouse
@testable import GatehouseServer

/// The JWT attack table of the hostile-input suite, run over HTTP against the
/// access-token guard (`GET /users/me`) and the refresh endpoint, on a server with an
/// audience configured. Every attack starts from a real token of a real session, so the
/// attack is the only thing wrong with it.
@Suite struct HostileTokenTests {
    enum Kind: String, Sendable, CaseIterable {
        case access, refresh
    }

    enum Attack: String, Sendable, CaseIterable {
        case algNoneUnsigned, algNoneSigned, algCapitalNoneUnsigned, algCapitalNoneSigned, algUpperNoneUnsigned, algUpperNoneSigned
        case hs384, hs512, rs256HeaderOverHMAC
        case signatureStripped, signatureRemovedWithDot, payloadTamperedToAdmin, signedWithTheOtherSecret, signedWithARandomSecret
        case wrongIssuer, audienceMismatch, audienceMissing, expiredBeyondSkew, notBeforeInTheFuture, issuedInTheFuture
        case kidInjection, jkuInjection, x5uInjection, jwkInjection, critHeader
        case hundredKilobytes, nonBase64Header, nonBase64Payload, nonBase64Signature, twoSegments, fourSegments
        case payloadNotAnObject, headerNotAnObject, payloadNotJSON, duplicateClaims, duplicateHeaderAlg, emptyToken
    }

    /// What each kind of token answers to every attack. An expired access token is the
    /// only one with its own message (SPEC.md §3.2).
    static func expectedMessage(_ attack: Attack, _ kind: Kind) -> String {
        switch kind {
        case .access: attack == .expiredBeyondSkew ? "Access token expired" : "Invalid access token"
        case .refresh: "Invalid or expired refresh token"
        }
    }

    static let audience = "gatehouse-api"

    /// A fresh app with one registered user, the attacker's material, and the call.
    static func withVictim(
        _ body: @Sendable (any TestClientProtocol, _ settings: GatehouseConfiguration, _ real: (access: String, refresh: String), _ clock: TestClock) async throws -> Void
    ) async throws {
        let settings = TestServer.settings(audience: audience)
        let clock = TestClock()
        try await TestServer.withApp(settings, clock: clock) { client in
            let (auth, cookie) = try await client.registered(email: "victim@example.com")
            try await body(client, settings, (auth.accessToken, cookie), clock)
        }
    }

    static func present(_ token: String, as kind: Kind, to client: some TestClientProtocol) async throws -> TestResponse {
        switch kind {
        case .access: try await client.get("/api/v1/users/me", bearer: token)
        case .refresh: try await client.refresh(cookie: token)
        }
    }

    /// Builds the attack's token from the real one.
    static func token(_ attack: Attack, kind: Kind, real: String, settings: GatehouseConfiguration, now: Int) throws -> String {
        let secret = kind == .access ? settings.accessSecret : settings.refreshSecret
        let otherSecret = kind == .access ? settings.refreshSecret : settings.accessSecret
        let claims = try payload(of: real)
        let parts = real.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let header = #"{"alg":"HS256","typ":"JWT"}"#

        func json(_ object: [String: Any]) -> String {
            String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        }
        func with(_ changes: [String: Any?]) -> String {
            var object = claims
            for (key, value) in changes { object[key] = value }
            return json(object)
        }
        let original = json(claims)

        switch attack {
        case .algNoneUnsigned: return unsigned(header: #"{"alg":"none","typ":"JWT"}"#, payload: original)
        case .algNoneSigned: return sign(header: #"{"alg":"none","typ":"JWT"}"#, payload: original, secret: secret)
        case .algCapitalNoneUnsigned: return unsigned(header: #"{"alg":"None"}"#, payload: original)
        case .algCapitalNoneSigned: return sign(header: #"{"alg":"None"}"#, payload: original, secret: secret)
        case .algUpperNoneUnsigned: return unsigned(header: #"{"alg":"NONE"}"#, payload: original)
        case .algUpperNoneSigned: return sign(header: #"{"alg":"NONE"}"#, payload: original, secret: secret)
        case .hs384: return sign(header: #"{"alg":"HS384","typ":"JWT"}"#, payload: original, secret: secret, algorithm: "HS384")
        case .hs512: return sign(header: #"{"alg":"HS512","typ":"JWT"}"#, payload: original, secret: secret, algorithm: "HS512")
        case .rs256HeaderOverHMAC: return sign(header: #"{"alg":"RS256","typ":"JWT"}"#, payload: original, secret: secret)
        case .signatureStripped: return parts[0] + "." + parts[1]
        case .signatureRemovedWithDot: return parts[0] + "." + parts[1] + "."
        case .payloadTamperedToAdmin:
            return parts[0] + "." + Base64URL.encode(Array(with(["role": "admin", "version": 99]).utf8)) + "." + parts[2]
        case .signedWithTheOtherSecret: return sign(header: header, payload: original, secret: otherSecret)
        case .signedWithARandomSecret: return sign(header: header, payload: original, secret: SecretGenerator.hex(bytes: 32))
        case .wrongIssuer: return sign(header: header, payload: with(["iss": "evil-issuer"]), secret: secret)
        case .audienceMismatch: return sign(header: header, payload: with(["aud": "other-api"]), secret: secret)
        case .audienceMissing:
            // Access tokens must carry the configured audience; refresh tokens must carry none.
            let changed = kind == .access ? with(["aud": nil]) : with(["aud": audience])
            return sign(header: header, payload: changed, secret: secret)
        case .expiredBeyondSkew: return sign(header: header, payload: with(["iat": now - 2_000, "exp": now - 31]), secret: secret)
        case .notBeforeInTheFuture: return sign(header: header, payload: with(["nbf": now + 300]), secret: secret)
        case .issuedInTheFuture: return sign(header: header, payload: with(["iat": now + 300, "exp": now + 1_200]), secret: secret)
        case .kidInjection: return sign(header: #"{"alg":"HS256","kid":"../../../../dev/null"}"#, payload: original, secret: "")
        case .jkuInjection:
            return sign(header: #"{"alg":"HS256","jku":"https://evil.example/jwks.json"}"#, payload: original, secret: secret)
        case .x5uInjection:
            return sign(header: #"{"alg":"HS256","x5u":"https://evil.example/cert.pem"}"#, payload: original, secret: secret)
        case .jwkInjection:
            return sign(header: #"{"alg":"HS256","jwk":{"kty":"oct","k":"ZXZpbA"}}"#, payload: original, secret: "evil")
        case .critHeader: return sign(header: #"{"alg":"HS256","crit":["exp"]}"#, payload: original, secret: secret)
        case .hundredKilobytes:
            return sign(header: header, payload: with(["padding": String(repeating: "A", count: 100_000)]), secret: secret)
        case .nonBase64Header: return "!!!." + parts[1] + "." + parts[2]
        case .nonBase64Payload: return parts[0] + ".%%%." + parts[2]
        case .nonBase64Signature: return parts[0] + "." + parts[1] + ".$$$"
        case .twoSegments: return parts[0] + "." + parts[2]
        case .fourSegments: return real + "." + parts[2]
        case .payloadNotAnObject: return sign(header: header, payload: #"["\#(claims["sub"]!)"]"#, secret: secret)
        case .headerNotAnObject: return sign(header: #""HS256""#, payload: original, secret: secret)
        case .payloadNotJSON: return sign(header: header, payload: "sub=admin", secret: secret)
        case .duplicateClaims:
            // Foundation keeps the first value, most other parsers the last.
            let duplicated = kind == .access ? #","role":"admin"}"# : #","gen":999}"#
            return sign(header: header, payload: String(original.dropLast()) + duplicated, secret: secret)
        case .duplicateHeaderAlg: return sign(header: #"{"alg":"none","alg":"HS256"}"#, payload: original, secret: secret)
        case .emptyToken: return "..."
        }
    }

    static func sign(header: String, payload: String, secret: String, algorithm: String = "HS256") -> String {
        let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8))
        let key = SymmetricKey(data: Data(secret.utf8))
        let mac: [UInt8] = switch algorithm {
        case "HS384": Array(HMAC<SHA384>.authenticationCode(for: Data(input.utf8), using: key))
        case "HS512": Array(HMAC<SHA512>.authenticationCode(for: Data(input.utf8), using: key))
        default: Array(HMAC<SHA256>.authenticationCode(for: Data(input.utf8), using: key))
        }
        return input + "." + Base64URL.encode(mac)
    }

    static func unsigned(header: String, payload: String) -> String {
        Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8)) + "."
    }

    @Test(arguments: Kind.allCases, Attack.allCases)
    func everyAttackIsRefusedWithTheSpecifiedMessage(kind: Kind, attack: Attack) async throws {
        try await Self.withVictim { client, settings, real, clock in
            let now = Int(clock.now.timeIntervalSince1970)
            let forged = try Self.token(attack, kind: kind, real: kind == .access ? real.access : real.refresh, settings: settings, now: now)
            expectError(try await Self.present(forged, as: kind, to: client), .unauthorized, Self.expectedMessage(attack, kind))
            // The forgery changed nothing: the real token still works.
            let genuine = try await Self.present(kind == .access ? real.access : real.refresh, as: kind, to: client)
            #expect(genuine.status == .ok, "\(genuine.text)")
        }
    }

    enum IntegerClaim: String, Sendable, CaseIterable {
        case iat, exp, nbf, version, gen
    }

    static let extremes = [Int.max, Int.min, 0, -1]

    /// Whether a correctly signed token whose `claim` is `value` (everything else real)
    /// is served. Gatehouse never issues negative numbers; `exp = Int.max` is a token the
    /// key holder chose to make eternal; a refresh token of another `version` or an old
    /// `gen` is a dead session.
    static func accepted(_ kind: Kind, _ claim: IntegerClaim, _ value: Int) -> Bool {
        switch claim {
        case .iat, .nbf, .gen: value == 0
        case .exp: value == .max
        case .version: value == 0 || (kind == .access && value == .max)
        }
    }

    /// A correctly signed token with `exp = 2^63 − 1` killed the process (`exp + skew`
    /// trapped on overflow). Every integer claim of both kinds, at both ends of 64 bits,
    /// at zero and negative, gets an answer.
    @Test(arguments: Kind.allCases, IntegerClaim.allCases)
    func extremeIntegerClaimsAreAnsweredNeverATrap(kind: Kind, claim: IntegerClaim) async throws {
        guard kind == .refresh || claim != .gen else { return }
        for value in Self.extremes {
            try await Self.withVictim { client, settings, real, _ in
                let token = kind == .access ? real.access : real.refresh
                var claims = try payload(of: token)
                claims[claim.rawValue] = value
                let json = String(decoding: try JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys]), as: UTF8.self)
                let secret = kind == .access ? settings.accessSecret : settings.refreshSecret
                let forged = Self.sign(header: #"{"alg":"HS256","typ":"JWT"}"#, payload: json, secret: secret)
                let response = try await Self.present(forged, as: kind, to: client)
                if Self.accepted(kind, claim, value) {
                    #expect(response.status == .ok, "\(kind) \(claim)=\(value): \(response.text)")
                } else {
                    expectError(response, .unauthorized)
                    #expect(response.status == .unauthorized, "\(kind) \(claim)=\(value): \(response.text)")
                }
                #expect(try await client.get("/health").status == .ok)
            }
        }
    }

    /// The table proves something only if the same construction, with nothing wrong,
    /// is accepted.
    @Test(arguments: Kind.allCases)
    func theUntamperedReconstructionIsAccepted(kind: Kind) async throws {
        try await Self.withVictim { client, settings, real, _ in
            let token = kind == .access ? real.access : real.refresh
            let secret = kind == .access ? settings.accessSecret : settings.refreshSecret
            let original = String(decoding: try JSONSerialization.data(withJSONObject: try payload(of: token), options: [.sortedKeys]), as: UTF8.self)
            let rebuilt = Self.sign(header: #"{"alg":"HS256","typ":"JWT"}"#, payload: original, secret: secret)
            #expect(try await Self.present(rebuilt, as: kind, to: client).status == .ok)
        }
    }
}
