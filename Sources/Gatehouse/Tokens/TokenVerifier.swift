import Foundation
import JWTKit

/// Verifies access and refresh tokens completely (SPEC.md §3.1).
///
/// JWTKit checks the signature with whichever key it holds but does not compare the
/// header's `alg` with that key, and checks no time claims, so this type does both:
/// the header must say `HS256` (no `none`, no HS384/HS512, no `crit`), then the signature,
/// then `iss`, `aud`, `nbf`/`iat` and finally `exp`, with at most the configured skew.
public struct TokenVerifier: Sendable {
    /// Tokens longer than this are refused before any parsing.
    public static let maximumTokenLength = 8_192

    let keys: SigningKeys
    let issuer: String
    let audience: String?
    let clockSkew: Int
    let now: @Sendable () -> Date

    /// Creates a verifier. `now` is injectable so expiry is tested without sleeping.
    public init(keys: SigningKeys, configuration: GatehouseConfiguration, now: @escaping @Sendable () -> Date = { Date() }) {
        self.keys = keys
        self.issuer = configuration.issuer
        self.audience = configuration.audience
        self.clockSkew = configuration.clockSkew
        self.now = now
    }

    /// Verifies an access token.
    public func verifyAccess(_ token: String) async throws(TokenError) -> AccessClaims {
        let claims: AccessClaims = try await verifySignature(token, keys: keys.access)
        try checkTimes(iat: claims.iat, exp: claims.exp, nbf: claims.nbf, iss: claims.iss, aud: claims.aud, audience: audience)
        return claims
    }

    /// Verifies a refresh token. Refresh tokens never carry an audience.
    public func verifyRefresh(_ token: String) async throws(TokenError) -> RefreshClaims {
        let claims: RefreshClaims = try await verifySignature(token, keys: keys.refresh)
        try checkTimes(iat: claims.iat, exp: claims.exp, nbf: claims.nbf, iss: claims.iss, aud: claims.aud, audience: nil)
        return claims
    }

    private func verifySignature<Payload: JWTPayload>(_ token: String, keys: JWTKeyCollection) async throws(TokenError) -> Payload {
        guard token.utf8.count <= Self.maximumTokenLength, Self.headerIsPinned(token) else {
            throw .invalid
        }
        do {
            return try await keys.verify(token, as: Payload.self)
        } catch {
            throw .invalid
        }
    }

    private func checkTimes(iat: Int, exp: Int, nbf: Int?, iss: String, aud: String?, audience: String?) throws(TokenError) {
        guard iss == issuer, aud == audience else { throw .invalid }
        let now = Int(self.now().timeIntervalSince1970.rounded(.down))
        guard iat <= now + clockSkew, exp > iat else { throw .invalid }
        if let nbf, nbf > now + clockSkew { throw .invalid }
        guard now < exp + clockSkew else { throw .expired }
    }

    /// The header must be a JSON object of exactly the parameters Gatehouse writes:
    /// `alg`, exactly `HS256`, and optionally `typ`, exactly `JWT`. Anything else is
    /// refused: `none` and other algorithms, `crit` (RFC 7515 §4.1.11: we understand no
    /// extension), and key-selecting parameters (`kid`, `jku`, `jwk`, `x5u`, `x5c`) that an
    /// attacker would use to point a verifier at a key of their own. Neither header nor
    /// payload may repeat a key (parsers disagree on which one wins). The signature must
    /// be the canonical unpadded encoding of 32 bytes, so no second spelling of a token
    /// exists.
    static func headerIsPinned(_ token: String) -> Bool {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3,
              let signature = Base64URL.decode(parts[2]), signature.count == 32,
              Base64URL.encode(signature) == parts[2],
              let headerBytes = Base64URL.decode(parts[0]),
              case .object(let header)? = try? headerDecoder.decode(JSONValue.self, from: Data(headerBytes)),
              let payloadBytes = Base64URL.decode(parts[1])
        else { return false }
        guard header["alg"] == .string("HS256"),
              header["typ"] == nil || header["typ"] == .string("JWT"),
              header.keys.allSatisfy({ $0 == "alg" || $0 == "typ" })
        else { return false }
        return !JSONDuplicateKeys.exist(in: headerBytes) && !JSONDuplicateKeys.exist(in: payloadBytes)
    }

    /// Shared: this runs on every authenticated request.
    private static let headerDecoder = JSONDecoder()
}
