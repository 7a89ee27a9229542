/// The registered-claim checks of SPEC.md §3.1, shared by Gatehouse and the downstream
/// verifier: `iss` exactly the issuer, `aud` exactly the audience (or both absent),
/// `iat`/`nbf` not in the future beyond the skew, `exp` after `iat` and not past beyond
/// the skew.
package struct ClaimRules: Sendable {
    package let issuer: String
    package let audience: String?
    /// Seconds of clock difference tolerated; at most 30 (SPEC.md §3.1).
    package let clockSkew: Int

    package init(issuer: String, audience: String?, clockSkew: Int) {
        self.issuer = issuer
        self.audience = audience
        self.clockSkew = min(max(clockSkew, 0), 30)
    }

    /// The claims are any 64-bit integers a key holder chose (`exp = Int.max` included),
    /// so no arithmetic touches them: the skew is applied to the clock's reading `now`
    /// (Unix seconds), a small positive number. Gatehouse never issues a negative time,
    /// so one is refused. `audience` overrides the configured one (refresh tokens carry
    /// none).
    package func check(iat: Int, exp: Int, nbf: Int?, iss: String, aud: String?, audience: String??, now: Int) throws(TokenError) {
        guard iss == issuer, aud == (audience ?? self.audience) else { throw .invalid }
        let latest = now + clockSkew
        let earliest = now - clockSkew
        guard iat >= 0, iat <= latest, exp > iat else { throw .invalid }
        if let nbf, nbf < 0 || nbf > latest { throw .invalid }
        guard exp > earliest else { throw .expired }
    }

    /// `check` for access-token claims.
    package func check(_ claims: AccessClaims, now: Int) throws(TokenError) {
        try check(iat: claims.iat, exp: claims.exp, nbf: claims.nbf, iss: claims.iss, aud: claims.aud, audience: .none, now: now)
    }
}
