/// Why a token was refused. Deliberately coarse: clients learn only "expired", "invalid" or "revoked".
public enum TokenError: Error, Sendable, Equatable {
    /// Correctly signed and otherwise valid, but past `exp` plus the allowed clock skew.
    case expired
    /// Anything else: malformed, wrong algorithm, bad signature, wrong issuer or audience,
    /// issued in the future, wrong token type.
    case invalid
    /// Valid, but a change since it was issued ended its right to act (SPEC.md §3.6):
    /// access tokens only.
    case revoked
}
