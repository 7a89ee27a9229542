import Crypto
import Foundation

/// Verifies access and refresh tokens completely (SPEC.md §3.1).
///
/// Verification is done here, on the token's bytes, rather than by JWTKit: it runs on
/// every authenticated request, and JWTKit adds an actor hop, a second parse of the
/// header, and no check of `alg` against the key or of any time claim. It works on the
/// token's bytes in place: one pass to find the dots, a copy of the key's HMAC state
/// (pads absorbed once, by swift-crypto), a byte comparison for the usual headers, one
/// decode of the payload. The order:
/// 1. at most 8 KiB, exactly three segments;
/// 2. the signature: exactly the unpadded base64url of HMAC-SHA256 of `header.payload`
///    under the secret, compared in constant time;
/// 3. the header: `alg` exactly `HS256`, `typ` absent or `JWT`, nothing else (no `none`,
///    no `crit`, no `kid`/`jku`/`jwk`/`x5u`), no repeated key;
/// 4. the payload: a flat JSON object without a repeated key, read by `ClaimSet`;
///    header and payload are parsed by `JSONParser`, the same strict RFC 8259 parser as
///    request bodies, so no input is read two ways;
/// 5. `iss`, `aud`, `iat`/`nbf` (not in the future beyond the skew) and `exp`;
/// 6. for access tokens, the revocation list when there is one (SPEC.md §3.6): a hash
///    lookup by user, skipped while the list is empty.
public struct TokenVerifier: Sendable {
    /// Tokens longer than this are refused before any parsing.
    public static let maximumTokenLength = 8_192

    let accessKey: HMAC<SHA256>
    let refreshKey: HMAC<SHA256>
    let issuer: String
    let audience: String?
    let clockSkew: Int
    let now: @Sendable () -> Date
    /// Recent revocations; `nil`: none are checked.
    public let revocations: RevocationList?

    /// Creates a verifier. `now` is injectable so expiry is tested without sleeping. With
    /// `revocations`, an access token that list refuses is `TokenError.revoked`.
    public init(
        keys: SigningKeys, configuration: GatehouseConfiguration, revocations: RevocationList? = nil,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.accessKey = keys.accessKey
        self.refreshKey = keys.refreshKey
        self.issuer = configuration.issuer
        self.audience = configuration.audience
        self.clockSkew = configuration.clockSkew
        self.revocations = revocations
        self.now = now
    }

    /// Verifies an access token.
    public func verifyAccess(_ token: String) async throws(TokenError) -> AccessClaims {
        var token = token
        return try token.withUTF8 { bytes in Result { () throws(TokenError) in try verifyAccess(bytes: bytes) } }.get()
    }

    /// Verifies an access token given as its UTF-8 bytes (synchronous: no actor, no I/O).
    func verifyAccess(bytes token: UnsafeBufferPointer<UInt8>) throws(TokenError) -> AccessClaims {
        guard let payload = Self.verifiedPayload(token, key: accessKey), let claims = AccessClaims(claims: payload) else {
            throw .invalid
        }
        let now = try checkTimes(iat: claims.iat, exp: claims.exp, nbf: claims.nbf, iss: claims.iss, aud: claims.aud, audience: audience)
        if let revocations, revocations.refuses(claims, now: now) { throw .revoked }
        return claims
    }

    /// Verifies a refresh token. Refresh tokens never carry an audience.
    public func verifyRefresh(_ token: String) async throws(TokenError) -> RefreshClaims {
        guard let payload = Self.verifiedPayload(token, key: refreshKey), let claims = RefreshClaims(claims: payload) else {
            throw .invalid
        }
        _ = try checkTimes(iat: claims.iat, exp: claims.exp, nbf: claims.nbf, iss: claims.iss, aud: claims.aud, audience: nil)
        return claims
    }

    /// Issuer, audience and times. The claims are any 64-bit integers a key holder chose
    /// (`exp = Int.max` included), so no arithmetic touches them: the skew is applied to
    /// the clock's reading, which is a small positive number, never to a claim. Gatehouse
    /// never issues a negative time, so one is refused. Returns the clock's reading, in
    /// Unix seconds.
    private func checkTimes(iat: Int, exp: Int, nbf: Int?, iss: String, aud: String?, audience: String?) throws(TokenError) -> Int {
        guard iss == issuer, aud == audience else { throw .invalid }
        let now = Int(self.now().timeIntervalSince1970.rounded(.down))
        let latest = now + clockSkew
        let earliest = now - clockSkew
        guard iat >= 0, iat <= latest, exp > iat else { throw .invalid }
        if let nbf, nbf < 0 || nbf > latest { throw .invalid }
        guard exp > earliest else { throw .expired }
        return now
    }

    /// Steps 1–4 above: the payload's claims when the token is well formed, pinned and
    /// signed with `key`; `nil` otherwise. Works on the token's UTF-8 bytes in place.
    static func verifiedPayload(_ token: String, key: HMAC<SHA256>) -> ClaimSet? {
        var token = token
        return token.withUTF8 { verifiedPayload($0, key: key) }
    }

    static func verifiedPayload(_ token: UnsafeBufferPointer<UInt8>, key: HMAC<SHA256>) -> ClaimSet? {
        guard token.count <= maximumTokenLength else { return nil }
        var firstDot = -1
        var secondDot = -1
        for index in token.indices where token[index] == UInt8(ascii: ".") {
            if firstDot < 0 {
                firstDot = index
            } else if secondDot < 0 {
                secondDot = index
            } else {
                return nil
            }
        }
        guard secondDot >= 0 else { return nil }
        let header = UnsafeBufferPointer(rebasing: token[..<firstDot])
        let payload = UnsafeBufferPointer(rebasing: token[(firstDot + 1)..<secondDot])
        let signature = UnsafeBufferPointer(rebasing: token[(secondDot + 1)...])
        guard isSignature(signature, of: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: token[..<secondDot])), key: key),
              headerIsPinned(header), let payloadBytes = Base64URL.decode(payload)
        else { return nil }
        return ClaimSet(json: payloadBytes)
    }

    /// Whether `signature` is exactly the unpadded base64url of HMAC-SHA256(`signed`).
    /// Comparing encodings rather than decoded bytes also refuses every other spelling
    /// of the same 32 bytes (non-zero trailing bits, padding). Constant time in the
    /// signature's content: no early exit before the last byte.
    static func isSignature(_ signature: UnsafeBufferPointer<UInt8>, of signed: UnsafeRawBufferPointer, key: HMAC<SHA256>) -> Bool {
        let length = Base64URL.encodedCount(SHA256.byteCount)
        guard signature.count == length else { return false }
        var hmac = key
        hmac.update(data: signed)
        let mac = hmac.finalize()
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: length) { expected in
            mac.withUnsafeBytes { Base64URL.encode($0, into: expected) }
            var difference: UInt8 = 0
            for index in 0..<length { difference |= expected[index] ^ signature[index] }
            return difference == 0
        }
    }

    /// The header segments Gatehouse and common libraries write, accepted without parsing.
    static let knownHeaders: [[UInt8]] = [
        #"{"alg":"HS256","typ":"JWT"}"#, #"{"typ":"JWT","alg":"HS256"}"#, #"{"alg":"HS256"}"#,
    ].map { Array(Base64URL.encode(Array($0.utf8)).utf8) }

    /// The header must be a JSON object of exactly the parameters Gatehouse writes:
    /// `alg`, exactly `HS256`, and optionally `typ`, exactly `JWT`; no key twice.
    static func headerIsPinned(_ segment: UnsafeBufferPointer<UInt8>) -> Bool {
        for known in knownHeaders where known.count == segment.count {
            if known.withUnsafeBufferPointer({ memcmp($0.baseAddress!, segment.baseAddress!, segment.count) == 0 }) { return true }
        }
        guard let bytes = Base64URL.decode(segment), case .object(let header)? = JSONParser.parse(bytes),
              header["alg"] == .string("HS256"),
              header["typ"] == nil || header["typ"] == .string("JWT"),
              header.keys.allSatisfy({ $0 == "alg" || $0 == "typ" })
        else { return false }
        // `JSONParser` refuses a key given twice, so `{"alg":"none","alg":"HS256"}` never gets here.
        return true
    }
}
