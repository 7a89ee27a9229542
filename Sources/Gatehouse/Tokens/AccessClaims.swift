import Foundation
import JWTKit

/// The claims of an access token, exactly those of SPEC.md §3.1.
///
/// Decoding is strict: `sub` and `sid` must be UUIDs and `role` a known role, so a token
/// that merely has a valid signature cannot smuggle odd values into a handler. The type
/// has no `gen` or `jti` and requires `role`, so a refresh token never decodes as one.
public struct AccessClaims: JWTPayload, Equatable {
    /// User id (lower-case UUID).
    public let sub: String
    /// The user's role when the token was issued.
    public let role: Role
    /// The user's `tokenVersion` when the token was issued.
    public let version: Int
    /// Session id (lower-case UUID).
    public let sid: String
    /// Issued at, Unix seconds.
    public let iat: Int
    /// Expires at, Unix seconds.
    public let exp: Int
    /// Issuer.
    public let iss: String
    /// Audience, when configured.
    public let aud: String?
    /// Not-before, Unix seconds; never set by Gatehouse but checked when present.
    let nbf: Int?

    /// Creates claims. Internal: claims come from `TokenIssuer` or from decoding, both of
    /// which guarantee that `sub` and `sid` are UUIDs.
    init(sub: String, role: Role, version: Int, sid: String, iat: Int, exp: Int, iss: String, aud: String?) {
        self.sub = sub
        self.role = role
        self.version = version
        self.sid = sid
        self.iat = iat
        self.exp = exp
        self.iss = iss
        self.aud = aud
        self.nbf = nil
    }

    /// The user id as a UUID (validated when decoded).
    public var userID: UUID { UUID(uuidString: sub)! }
    /// The session id as a UUID (validated when decoded).
    public var sessionID: UUID { UUID(uuidString: sid)! }

    enum CodingKeys: String, CodingKey {
        case sub, role, version, sid, iat, exp, iss, aud, nbf
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.sub = try c.decodeUUIDString(forKey: .sub)
        self.role = try c.decode(Role.self, forKey: .role)
        self.version = try c.decode(Int.self, forKey: .version)
        self.sid = try c.decodeUUIDString(forKey: .sid)
        self.iat = try c.decode(Int.self, forKey: .iat)
        self.exp = try c.decode(Int.self, forKey: .exp)
        self.iss = try c.decode(String.self, forKey: .iss)
        self.aud = try c.decodeAudience(forKey: .aud)
        self.nbf = try c.decodeIfPresent(Int.self, forKey: .nbf)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(sub, forKey: .sub)
        try c.encode(role, forKey: .role)
        try c.encode(version, forKey: .version)
        try c.encode(sid, forKey: .sid)
        try c.encode(iat, forKey: .iat)
        try c.encode(exp, forKey: .exp)
        try c.encode(iss, forKey: .iss)
        try c.encodeIfPresent(aud, forKey: .aud)
        try c.encodeIfPresent(nbf, forKey: .nbf)
    }

    /// Time, issuer and audience checks are done by `TokenVerifier` with its injected
    /// clock; JWTKit only calls this after the signature has been verified.
    public func verify(using algorithm: some JWTAlgorithm) async throws {}
}
