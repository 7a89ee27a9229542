import Crypto
import Foundation
import Testing

@testable import Gatehouse

/// Signs arbitrary header and payload JSON with a secret, as an attacker who knows
/// (or guesses) the format would.
func forge(header: String, payload: String, secret: String, algorithm: String = "HS256") -> String {
    let signingInput = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8))
    let key = SymmetricKey(data: Data(secret.utf8))
    let mac: [UInt8] = switch algorithm {
    case "HS384": Array(HMAC<SHA384>.authenticationCode(for: Data(signingInput.utf8), using: key))
    case "HS512": Array(HMAC<SHA512>.authenticationCode(for: Data(signingInput.utf8), using: key))
    default: Array(HMAC<SHA256>.authenticationCode(for: Data(signingInput.utf8), using: key))
    }
    return signingInput + "." + Base64URL.encode(mac)
}

extension Base64URL {
    /// The verifier decodes bytes in place; tests decode text.
    static func decode(_ text: some StringProtocol) -> [UInt8]? {
        var text = String(text)
        return text.withUTF8 { decode($0) }
    }
}

struct Fixture: Sendable {
    static let now = 1_800_000_000
    static let userID = "5b1e6d0c-3f43-4c0e-9c8c-0d8d3c1e9a11"
    static let sessionID = "9f0b8a2e-7c1d-4e5f-8a9b-1c2d3e4f5a6b"

    let configuration: GatehouseConfiguration
    let verifier: TokenVerifier
    let issuer: TokenIssuer

    init(audience: String? = nil, at time: Int = Fixture.now) async {
        configuration = try! GatehouseConfiguration(
            accessSecret: "access-secret-access-secret-access-secret",
            refreshSecret: "refresh-secret-refresh-secret-refresh-secret",
            audience: audience
        )
        let keys = SigningKeys(configuration: configuration)
        verifier = TokenVerifier(keys: keys, configuration: configuration, now: { Date(timeIntervalSince1970: TimeInterval(time)) })
        issuer = TokenIssuer(keys: keys, configuration: configuration)
    }

    func access(iat: Int = Fixture.now) async throws -> String {
        issuer.accessToken(
            userID: UUID(uuidString: Self.userID)!, role: .user, version: 3,
            sessionID: UUID(uuidString: Self.sessionID)!, issuedAt: iat
        )
    }

    func refresh(iat: Int = Fixture.now) async throws -> String {
        issuer.refreshToken(
            userID: UUID(uuidString: Self.userID)!, version: 3, sessionID: UUID(uuidString: Self.sessionID)!,
            generation: 2, issuedAt: iat
        )
    }

    /// Access-token claims as JSON, with overrides.
    func accessPayload(_ overrides: [String: String] = [:]) -> String {
        var claims = [
            "sub": "\"\(Self.userID)\"", "role": "\"user\"", "version": "3", "sid": "\"\(Self.sessionID)\"",
            "iat": "\(Self.now)", "exp": "\(Self.now + 900)", "iss": "\"gatehouse\"",
        ]
        for (key, value) in overrides { claims[key] = value }
        return "{" + claims.filter { $0.value != "-" }.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",") + "}"
    }
}

/// The same 6-bit group's byte with different unused low bits: a second spelling of the
/// signature's last character.
func nonCanonical(_ last: Character) -> String {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    let index = alphabet.firstIndex(of: last)!
    return String(alphabet[index ^ 1])
}

@Suite struct TokenTests {
    @Test func accessTokenRoundTripsWithExactlyTheSpecifiedClaims() async throws {
        let fixture = await Fixture()
        let token = try await fixture.access()
        let claims = try await fixture.verifier.verifyAccess(token)
        #expect(claims == AccessClaims(
            sub: Fixture.userID, role: .user, version: 3, sid: Fixture.sessionID,
            iat: Fixture.now, exp: Fixture.now + 900, iss: "gatehouse", aud: nil
        ))
        let payload = String(token.split(separator: ".")[1])
        let json = try JSONSerialization.jsonObject(with: Data(Base64URL.decode(Substring(payload))!)) as! [String: Any]
        #expect(Set(json.keys) == ["sub", "role", "version", "sid", "iat", "exp", "iss"])
        #expect(json["iat"] is Int)
    }

    @Test func refreshTokenRoundTrips() async throws {
        let fixture = await Fixture()
        let claims = try await fixture.verifier.verifyRefresh(try await fixture.refresh())
        #expect(claims.gen == 2)
        #expect(claims.version == 3)
        #expect(claims.exp - claims.iat == 7 * 86_400)
        #expect(claims.jti == TokenIssuer.tokenID(sessionID: Fixture.sessionID, generation: 2))
    }

    @Test func reissuingTheSameGenerationGivesTheSameToken() async throws {
        let fixture = await Fixture()
        #expect(try await fixture.refresh() == (try await fixture.refresh()))
    }

    @Test func accessAndRefreshTokensNeverStandInForEachOther() async throws {
        let fixture = await Fixture()
        let access = try await fixture.access()
        let refresh = try await fixture.refresh()
        await #expect(throws: TokenError.invalid) { try await fixture.verifier.verifyRefresh(access) }
        await #expect(throws: TokenError.invalid) { try await fixture.verifier.verifyAccess(refresh) }
        // Even signed with the right key, the other claim type does not decode.
        let refreshShaped = forge(
            header: #"{"alg":"HS256","typ":"JWT"}"#,
            payload: #"{"sub":"\#(Fixture.userID)","version":3,"sid":"\#(Fixture.sessionID)","gen":0,"iat":\#(Fixture.now),"exp":\#(Fixture.now + 900),"iss":"gatehouse","jti":"x"}"#,
            secret: fixture.configuration.accessSecret
        )
        await #expect(throws: TokenError.invalid) { try await fixture.verifier.verifyAccess(refreshShaped) }
    }

    @Test func expiryHasThirtySecondsOfSkewAndNoMore() async throws {
        let issued = Fixture.now - 900
        let within = await Fixture(at: Fixture.now + 29)
        let token = try await within.access(iat: issued)
        _ = try await within.verifier.verifyAccess(token)
        let beyond = await Fixture(at: Fixture.now + 30)
        await #expect(throws: TokenError.expired) { try await beyond.verifier.verifyAccess(token) }
        await #expect(throws: TokenError.expired) { try await beyond.verifier.verifyRefresh(try await beyond.refresh(iat: Fixture.now - 7 * 86_400)) }
    }

    @Test func audienceIsCheckedWhenConfigured() async throws {
        let withAudience = await Fixture(audience: "api")
        let token = try await withAudience.access()
        #expect(try await withAudience.verifier.verifyAccess(token).aud == "api")
        let withoutAudience = await Fixture()
        await #expect(throws: TokenError.invalid) { try await withoutAudience.verifier.verifyAccess(token) }
        let plain = try await withoutAudience.access()
        await #expect(throws: TokenError.invalid) { try await withAudience.verifier.verifyAccess(plain) }
    }

    /// Forged tokens, all signed with the real access secret unless said otherwise:
    /// each must be refused as invalid (not expired, not accepted).
    static let forgeries: [(name: String, header: String, overrides: [String: String], algorithm: String)] = [
        ("alg HS384 over HS256 MAC", #"{"alg":"HS384","typ":"JWT"}"#, [:], "HS256"),
        ("alg HS512 over HS256 MAC", #"{"alg":"HS512","typ":"JWT"}"#, [:], "HS256"),
        ("alg HS384 with HS384 MAC", #"{"alg":"HS384","typ":"JWT"}"#, [:], "HS384"),
        ("alg HS512 with HS512 MAC", #"{"alg":"HS512","typ":"JWT"}"#, [:], "HS512"),
        ("alg RS256", #"{"alg":"RS256","typ":"JWT"}"#, [:], "HS256"),
        ("alg none", #"{"alg":"none","typ":"JWT"}"#, [:], "HS256"),
        ("alg None", #"{"alg":"None"}"#, [:], "HS256"),
        ("alg hs256", #"{"alg":"hs256"}"#, [:], "HS256"),
        ("no alg", #"{"typ":"JWT"}"#, [:], "HS256"),
        ("crit", #"{"alg":"HS256","crit":["exp"]}"#, [:], "HS256"),
        ("typ not JWT", #"{"alg":"HS256","typ":"JWE"}"#, [:], "HS256"),
        ("header not an object", #"["HS256"]"#, [:], "HS256"),
        ("wrong issuer", #"{"alg":"HS256"}"#, ["iss": "\"evil\""], "HS256"),
        ("missing issuer", #"{"alg":"HS256"}"#, ["iss": "-"], "HS256"),
        ("unexpected audience", #"{"alg":"HS256"}"#, ["aud": "\"api\""], "HS256"),
        ("iat in the future", #"{"alg":"HS256"}"#, ["iat": "\(Fixture.now + 31)", "exp": "\(Fixture.now + 931)"], "HS256"),
        ("nbf in the future", #"{"alg":"HS256"}"#, ["nbf": "\(Fixture.now + 31)"], "HS256"),
        ("exp before iat", #"{"alg":"HS256"}"#, ["exp": "\(Fixture.now - 1)"], "HS256"),
        ("fractional exp", #"{"alg":"HS256"}"#, ["exp": "\(Fixture.now + 900).5"], "HS256"),
        ("string exp", #"{"alg":"HS256"}"#, ["exp": "\"\(Fixture.now + 900)\""], "HS256"),
        ("unknown role", #"{"alg":"HS256"}"#, ["role": "\"root\""], "HS256"),
        ("sub not a UUID", #"{"alg":"HS256"}"#, ["sub": "\"1\""], "HS256"),
        ("missing sid", #"{"alg":"HS256"}"#, ["sid": "-"], "HS256"),
        ("kid injection", #"{"alg":"HS256","kid":"../../../dev/null"}"#, [:], "HS256"),
        ("jku injection", #"{"alg":"HS256","jku":"https://evil.example/jwks.json"}"#, [:], "HS256"),
        ("x5u injection", #"{"alg":"HS256","x5u":"https://evil.example/cert.pem"}"#, [:], "HS256"),
        ("jwk injection", #"{"alg":"HS256","jwk":{"kty":"oct","k":"AAAA"}}"#, [:], "HS256"),
        ("duplicate alg", #"{"alg":"none","alg":"HS256"}"#, [:], "HS256"),
    ]

    @Test(arguments: forgeries)
    func forgedTokensAreInvalid(name: String, header: String, overrides: [String: String], algorithm: String) async throws {
        let fixture = await Fixture()
        let token = forge(header: header, payload: fixture.accessPayload(overrides), secret: fixture.configuration.accessSecret, algorithm: algorithm)
        await #expect(throws: TokenError.invalid, "\(name)") { try await fixture.verifier.verifyAccess(token) }
    }

    @Test func theUntamperedForgeryControlIsAccepted() async throws {
        // The table above proves something only if the same construction with nothing
        // wrong passes.
        let fixture = await Fixture()
        let token = forge(header: #"{"alg":"HS256","typ":"JWT"}"#, payload: fixture.accessPayload(), secret: fixture.configuration.accessSecret)
        #expect(try await fixture.verifier.verifyAccess(token).sub == Fixture.userID)
    }

    @Test func tamperingAndStructuralDamageAreInvalid() async throws {
        let fixture = await Fixture()
        let token = try await fixture.access()
        let parts = token.split(separator: ".").map(String.init)
        let adminPayload = Base64URL.encode(Array(fixture.accessPayload(["role": "\"admin\""]).utf8))
        let candidates = [
            parts[0] + "." + adminPayload + "." + parts[2],                      // payload tampered
            parts[0] + "." + parts[1] + ".",                                      // signature stripped
            parts[0] + "." + parts[1],                                            // two segments
            token + ".extra",                                                     // four segments
            parts[0] + "." + parts[1] + "." + parts[2].dropLast(2) + "AA",        // signature altered
            parts[0] + "." + parts[1] + "." + parts[2] + "=",                     // padding
            parts[0] + "." + parts[1] + "." + parts[2].dropLast() + nonCanonical(parts[2].last!), // unused bits set
            "%%%." + parts[1] + "." + parts[2],                                   // not base64url
            forge(header: #"{"alg":"HS256"}"#, payload: fixture.accessPayload(), secret: fixture.configuration.refreshSecret),
            forge(header: #"{"alg":"HS256"}"#, payload: "[1,2,3]", secret: fixture.configuration.accessSecret),
            forge(header: #"{"alg":"HS256"}"#, payload: "not json", secret: fixture.configuration.accessSecret),
            String(repeating: "a", count: 100_000),
            "",
        ]
        for candidate in candidates {
            await #expect(throws: TokenError.invalid) { try await fixture.verifier.verifyAccess(candidate) }
        }
    }

    /// Foundation's decoder would read the first `role` and most other parsers the last:
    /// a token that repeats a claim is refused, even with a valid signature.
    @Test(arguments: ["role", "sub", "exp", "iss"])
    func duplicateClaimsAreInvalid(claim: String) async throws {
        let fixture = await Fixture()
        let payload = String(fixture.accessPayload().dropLast()) + ",\"\(claim)\":\"admin\"}"
        let token = forge(header: #"{"alg":"HS256","typ":"JWT"}"#, payload: payload, secret: fixture.configuration.accessSecret)
        await #expect(throws: TokenError.invalid) { try await fixture.verifier.verifyAccess(token) }
    }

    @Test func base64URLRoundTripsAndIsStrict() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect(Base64URL.decode(Substring(Base64URL.encode(bytes))) == bytes)
        }
        #expect(Base64URL.decode("A") == nil)
        #expect(Base64URL.decode("AA==") == nil)
        #expect(Base64URL.decode("A+/A") == nil)
    }
}

/// Signing on bytes (issue 12): the fixed header, sorted claims with integer times, and
/// the same token for the same claims, byte for byte.
@Suite struct SigningTests {
    @Test func tokensAreTheHS256OfSortedClaims() async throws {
        let fixture = await Fixture(audience: "api")
        let access = try await fixture.access()
        let parts = access.split(separator: ".").map(String.init)
        #expect(parts.count == 3)
        #expect(Base64URL.decode(parts[0]).map { String(decoding: $0, as: UTF8.self) } == #"{"alg":"HS256","typ":"JWT"}"#)
        let payload = try #require(Base64URL.decode(parts[1]).map { String(decoding: $0, as: UTF8.self) })
        #expect(payload == #"{"aud":"api","exp":1800000900,"iat":1800000000,"iss":"gatehouse","role":"user","#
            + #""sid":"9f0b8a2e-7c1d-4e5f-8a9b-1c2d3e4f5a6b","sub":"5b1e6d0c-3f43-4c0e-9c8c-0d8d3c1e9a11","version":3}"#)
        // An independent HMAC over the same text gives the same signature.
        #expect(forge(header: #"{"alg":"HS256","typ":"JWT"}"#, payload: payload, secret: fixture.configuration.accessSecret) == access)

        let refresh = try await fixture.refresh()
        let refreshPayload = try #require(Base64URL.decode(refresh.split(separator: ".")[1]).map { String(decoding: $0, as: UTF8.self) })
        #expect(refreshPayload.hasPrefix(#"{"exp":1800604800,"gen":2,"iat":1800000000,"iss":"gatehouse","jti":""#))
        #expect(forge(header: #"{"alg":"HS256","typ":"JWT"}"#, payload: refreshPayload, secret: fixture.configuration.refreshSecret) == refresh)
    }

    /// The grace window re-issues "the session's current refresh token": it must be the
    /// same string every time.
    @Test func theSameClaimsGiveTheSameToken() async throws {
        let fixture = await Fixture()
        #expect(try await fixture.refresh() == (try await fixture.refresh()))
        #expect(try await fixture.access() == (try await fixture.access()))
        #expect(try await fixture.access(iat: Fixture.now + 1) != (try await fixture.access()))
    }

    /// Claims with characters that need escaping sign and verify.
    @Test func escapedClaimsRoundTrip() async throws {
        let configuration = try GatehouseConfiguration(
            environment: .development, accessSecret: String(repeating: "k", count: 200), refreshSecret: String(repeating: "r", count: 40),
            issuer: "https://auth.example.com/\"realm\"\\é", audience: "api/v1"
        )
        let keys = SigningKeys(configuration: configuration)
        let issuer = TokenIssuer(keys: keys, configuration: configuration)
        let verifier = TokenVerifier(keys: keys, configuration: configuration, now: { Date(timeIntervalSince1970: 1_800_000_010) })
        let token = issuer.accessToken(userID: UUID(), role: .admin, version: 7, sessionID: UUID(), issuedAt: 1_800_000_000)
        let claims = try await verifier.verifyAccess(token)
        #expect(claims.iss == "https://auth.example.com/\"realm\"\\é")
        #expect(claims.aud == "api/v1")
        #expect(claims.role == .admin)
    }
}
