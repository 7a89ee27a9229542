import Foundation

/// Verifies access tokens completely (SPEC.md §3.1, §3.7): the signature under the key the
/// header names and that key's algorithm only (`JWS`), the claims' shape
/// (`AccessClaims`), then issuer, audience and times (`ClaimRules`). Gatehouse's own
/// `TokenVerifier` and a downstream service's verifier are both this.
///
/// With public keys, verified tokens are remembered (`VerifiedTokenCache`) so one
/// presented again skips the signature check.
public struct AccessTokenVerifier: Sendable {
    /// Tokens longer than this are refused before any parsing.
    public static let maximumTokenLength = 8_192
    /// The default number of verified tokens remembered.
    public static let defaultCacheCapacity = 20_000

    /// The keys accepted.
    public let keys: AccessTokenKeys
    package let rules: ClaimRules
    package let now: @Sendable () -> Date
    let cache: VerifiedTokenCache?

    /// Creates a verifier. `cacheCapacity` 0 turns the cache off; it is only used when
    /// `keys` has public keys (an HS256 check costs about what the cache's hash does).
    /// `now` is injectable so expiry is tested without sleeping.
    public init(
        keys: AccessTokenKeys, issuer: String, audience: String?, clockSkew: Int = 30,
        cacheCapacity: Int = defaultCacheCapacity, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.keys = keys
        self.rules = ClaimRules(issuer: issuer, audience: audience, clockSkew: clockSkew)
        self.now = now
        self.cache = cacheCapacity > 0 && !keys.publicKeys.isEmpty ? VerifiedTokenCache(capacity: cacheCapacity) : nil
    }

    /// Verifies an access token.
    public func verify(_ token: String) throws(TokenError) -> AccessClaims {
        var token = token
        return try token.withUTF8 { bytes in Result { () throws(TokenError) in try verify(bytes: bytes).claims } }.get()
    }

    /// Verifies an access token given as its UTF-8 bytes; also returns the clock's
    /// reading (Unix seconds) the times were checked against.
    package func verify(bytes token: UnsafeBufferPointer<UInt8>) throws(TokenError) -> (claims: AccessClaims, now: Int) {
        let now = Int(self.now().timeIntervalSince1970.rounded(.down))
        guard let cache, token.count <= Self.maximumTokenLength else {
            return (try verifyUncached(token, now: now), now)
        }
        let key = VerifiedTokenCache.key(UnsafeRawBufferPointer(token))
        if let claims = cache.claims(key) {
            try rules.check(claims, now: now)
            return (claims, now)
        }
        let claims = try verifyUncached(token, now: now)
        cache.insert(claims, key: key, until: claims.exp > Int.max - rules.clockSkew ? Int.max : claims.exp + rules.clockSkew, now: now)
        return (claims, now)
    }

    private func verifyUncached(_ token: UnsafeBufferPointer<UInt8>, now: Int) throws(TokenError) -> AccessClaims {
        guard let payload = JWS.verifiedPayload(token, keys: keys, maximumLength: Self.maximumTokenLength),
              let claims = AccessClaims(claims: payload)
        else { throw .invalid }
        try rules.check(claims, now: now)
        return claims
    }

    /// How many verified tokens are remembered (0 without a cache).
    package var cachedTokens: Int { cache?.count ?? 0 }
}

extension AccessTokenVerifier {
    /// The `kid` a token's header names, if it is a JSON object with a string `kid`: to
    /// tell an unknown key from a bad token (the downstream verifier refetches the key
    /// set for the first). Nothing is verified.
    package static func kid(of token: String) -> String? {
        guard let end = token.utf8.firstIndex(of: UInt8(ascii: ".")), token.utf8.distance(from: token.utf8.startIndex, to: end) <= 1_024 else {
            return nil
        }
        var header = String(token[..<end])
        guard let bytes = header.withUTF8({ Base64URL.decode($0) }), case .object(let object)? = JSONParser.parse(bytes),
              case .string(let kid)? = object["kid"]
        else { return nil }
        return kid
    }

    /// Whether a public key with `kid` is accepted.
    package func knows(kid: String) -> Bool {
        keys.publicKey(kid: kid) != nil
    }
}
