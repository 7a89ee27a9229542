import Crypto
import Foundation

/// Verifies access and refresh tokens completely (SPEC.md §3.1).
///
/// Verification is done here, on the token's bytes, rather than by JWTKit: it runs on
/// every authenticated request, and JWTKit adds an actor hop, a second parse of the
/// header, and no check of `alg` against the key or of any time claim. The order:
/// 1. at most 8 KiB, exactly three segments;
/// 2. the signature: canonical unpadded base64url of 32 bytes, equal (in constant time)
///    to HMAC-SHA256 of `header.payload` under the secret;
/// 3. the header: `alg` exactly `HS256`, `typ` absent or `JWT`, nothing else (no `none`,
///    no `crit`, no `kid`/`jku`/`jwk`/`x5u`), no repeated key;
/// 4. the payload: a flat JSON object without a repeated key, read by `ClaimSet` (no
///    Foundation decoder on this path) strictly into the claims;
/// 5. `iss`, `aud`, `iat`/`nbf` (not in the future beyond the skew) and `exp`.
public struct TokenVerifier: Sendable {
    /// Tokens longer than this are refused before any parsing.
    public static let maximumTokenLength = 8_192

    let accessKey: SymmetricKey
    let refreshKey: SymmetricKey
    let issuer: String
    let audience: String?
    let clockSkew: Int
    let now: @Sendable () -> Date

    /// Creates a verifier. `now` is injectable so expiry is tested without sleeping.
    public init(keys: SigningKeys, configuration: GatehouseConfiguration, now: @escaping @Sendable () -> Date = { Date() }) {
        self.accessKey = keys.accessKey
        self.refreshKey = keys.refreshKey
        self.issuer = configuration.issuer
        self.audience = configuration.audience
        self.clockSkew = configuration.clockSkew
        self.now = now
    }

    /// Verifies an access token.
    public func verifyAccess(_ token: String) async throws(TokenError) -> AccessClaims {
        guard let payload = Self.verifiedPayload(token, key: accessKey), let claims = AccessClaims(claims: payload) else {
            throw .invalid
        }
        try checkTimes(iat: claims.iat, exp: claims.exp, nbf: claims.nbf, iss: claims.iss, aud: claims.aud, audience: audience)
        return claims
    }

    /// Verifies a refresh token. Refresh tokens never carry an audience.
    public func verifyRefresh(_ token: String) async throws(TokenError) -> RefreshClaims {
        guard let payload = Self.verifiedPayload(token, key: refreshKey), let claims = RefreshClaims(claims: payload) else {
            throw .invalid
        }
        try checkTimes(iat: claims.iat, exp: claims.exp, nbf: claims.nbf, iss: claims.iss, aud: claims.aud, audience: nil)
        return claims
    }

    private func checkTimes(iat: Int, exp: Int, nbf: Int?, iss: String, aud: String?, audience: String?) throws(TokenError) {
        guard iss == issuer, aud == audience else { throw .invalid }
        let now = Int(self.now().timeIntervalSince1970.rounded(.down))
        guard iat <= now + clockSkew, exp > iat else { throw .invalid }
        if let nbf, nbf > now + clockSkew { throw .invalid }
        guard now < exp + clockSkew else { throw .expired }
    }

    /// Steps 1–4 above: the payload's claims when the token is well formed, pinned and
    /// signed with `key`; `nil` otherwise. Works on the token's UTF-8 bytes: no
    /// `Character` splitting, one pass to find the dots.
    static func verifiedPayload(_ token: String, key: SymmetricKey) -> ClaimSet? {
        let utf8 = token.utf8
        let dot = UInt8(ascii: ".")
        guard utf8.count <= maximumTokenLength,
              let firstDot = utf8.firstIndex(of: dot),
              let secondDot = utf8[utf8.index(after: firstDot)...].firstIndex(of: dot),
              !utf8[utf8.index(after: secondDot)...].contains(dot)
        else { return nil }
        let header = Substring(utf8[..<firstDot])
        let payloadSegment = Substring(utf8[utf8.index(after: firstDot)..<secondDot])
        let signatureSegment = Substring(utf8[utf8.index(after: secondDot)...])
        guard let signature = Base64URL.decode(signatureSegment), signature.count == 32, Base64URL.isCanonical(signatureSegment)
        else { return nil }
        let signedLength = utf8.distance(from: utf8.startIndex, to: secondDot)
        let authentic = utf8.withContiguousStorageIfAvailable { bytes in
            HMAC<SHA256>.isValidAuthenticationCode(
                signature, authenticating: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[0..<signedLength])), using: key
            )
        } ?? HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: Array(utf8.prefix(signedLength)), using: key)
        guard authentic, headerIsPinned(header), let payload = Base64URL.decode(payloadSegment) else { return nil }
        return ClaimSet(json: payload)
    }

    /// The header segments Gatehouse and common libraries write, accepted without parsing.
    static let knownHeaders: Set<Substring> = [
        #"{"alg":"HS256","typ":"JWT"}"#, #"{"typ":"JWT","alg":"HS256"}"#, #"{"alg":"HS256"}"#,
    ].reduce(into: []) { $0.insert(Substring(Base64URL.encode(Array($1.utf8)))) }

    /// The header must be a JSON object of exactly the parameters Gatehouse writes:
    /// `alg`, exactly `HS256`, and optionally `typ`, exactly `JWT`; no key twice.
    static func headerIsPinned(_ segment: Substring) -> Bool {
        if knownHeaders.contains(segment) { return true }
        guard let bytes = Base64URL.decode(segment),
              case .object(let header)? = try? headerDecoder.decode(JSONValue.self, from: Data(bytes)),
              header["alg"] == .string("HS256"),
              header["typ"] == nil || header["typ"] == .string("JWT"),
              header.keys.allSatisfy({ $0 == "alg" || $0 == "typ" })
        else { return false }
        return !JSONDuplicateKeys.exist(in: bytes)
    }

    /// For headers of unusual spelling only.
    private static let headerDecoder = JSONDecoder()
}
