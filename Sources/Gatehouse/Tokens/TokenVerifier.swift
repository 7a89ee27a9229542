import Crypto
import Foundation

/// Verifies access and refresh tokens completely (SPEC.md §3.1, §3.7).
///
/// Verification is done on the token's bytes, by `AccessTokenVerifier` (module
/// GatehouseJWT, shared with the downstream verifier), rather than by JWTKit: it runs on
/// every authenticated request, and JWTKit adds an actor hop, a second parse of the
/// header, and no check of `alg` against the key or of any time claim. In order:
/// 1. at most 8 KiB, exactly three segments;
/// 2. the header: `alg`, optional `typ` (exactly `JWT`) and `kid`, nothing else (no
///    `crit`, no `jku`/`jwk`/`x5u`), no repeated key; the usual headers are recognised
///    by a byte comparison;
/// 3. the key the header selects, pinned to its algorithm: an HS256 MAC (current or
///    previous secret) only under `JWT_ALGORITHM=HS256`, a public key only by its `kid`
///    and only with its own algorithm; the signature, compared in constant time for MACs;
/// 4. the payload: a flat JSON object without a repeated key, read by `ClaimSet`;
///    header and payload are parsed by `JSONParser`, the same strict RFC 8259 parser as
///    request bodies, so no input is read two ways;
/// 5. `iss`, `aud`, `iat`/`nbf` (not in the future beyond the skew) and `exp`;
/// 6. for access tokens, the revocation list when there is one (SPEC.md §3.6): a hash
///    lookup by user, skipped while the list is empty.
///
/// Under an asymmetric algorithm verified access tokens are remembered by hash
/// (`VerifiedTokenCache`); step 6 runs on every request, hit or not.
public struct TokenVerifier: Sendable {
    /// Tokens longer than this are refused before any parsing.
    public static let maximumTokenLength = AccessTokenVerifier.maximumTokenLength

    /// Access tokens, steps 1–5.
    public let access: AccessTokenVerifier
    let refreshKeys: AccessTokenKeys
    /// Recent revocations; `nil`: none are checked.
    public let revocations: RevocationList?

    /// Creates a verifier. `now` is injectable so expiry is tested without sleeping. With
    /// `revocations`, an access token that list refuses is `TokenError.revoked`.
    public init(
        keys: SigningKeys, configuration: GatehouseConfiguration, revocations: RevocationList? = nil,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.access = AccessTokenVerifier(
            keys: keys.access, issuer: configuration.issuer, audience: configuration.audience, clockSkew: configuration.clockSkew,
            cacheCapacity: configuration.verifiedTokenCacheCapacity, now: now
        )
        self.refreshKeys = keys.refresh
        self.revocations = revocations
    }

    /// Verifies an access token.
    public func verifyAccess(_ token: String) async throws(TokenError) -> AccessClaims {
        var token = token
        return try token.withUTF8 { bytes in Result { () throws(TokenError) in try verifyAccess(bytes: bytes) } }.get()
    }

    /// Verifies an access token given as its UTF-8 bytes (synchronous: no actor, no I/O).
    func verifyAccess(bytes token: UnsafeBufferPointer<UInt8>) throws(TokenError) -> AccessClaims {
        let (claims, now) = try access.verify(bytes: token)
        if let revocations, revocations.refuses(claims, now: now) { throw .revoked }
        return claims
    }

    /// Verifies a refresh token (HS256 under the refresh secret or its previous one).
    /// Refresh tokens never carry an audience.
    public func verifyRefresh(_ token: String) async throws(TokenError) -> RefreshClaims {
        var token = token
        let payload = token.withUTF8 { JWS.verifiedPayload($0, keys: refreshKeys, maximumLength: Self.maximumTokenLength) }
        guard let payload, let claims = RefreshClaims(claims: payload) else { throw .invalid }
        let now = Int(access.now().timeIntervalSince1970.rounded(.down))
        try access.rules.check(
            iat: claims.iat, exp: claims.exp, nbf: claims.nbf, iss: claims.iss, aud: claims.aud, audience: .some(nil), now: now
        )
        return claims
    }
}
