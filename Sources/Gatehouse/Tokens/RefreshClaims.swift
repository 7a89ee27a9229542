import Foundation

/// The claims of a refresh token (SPEC.md §3.1). Requires `gen` and `jti` and has no
/// `role`, so an access token never decodes as one.
public struct RefreshClaims: Codable, Sendable, Equatable {
    /// User id (lower-case UUID).
    public let sub: String
    /// The user's `tokenVersion` when the token was issued.
    public let version: Int
    /// Session id (lower-case UUID).
    public let sid: String
    /// The session generation this token belongs to.
    public let gen: Int
    /// Issued at, Unix seconds.
    public let iat: Int
    /// Expires at, Unix seconds.
    public let exp: Int
    /// Issuer.
    public let iss: String
    /// Token id, derived from session and generation so that re-issuing the current
    /// token (grace window) yields the same token.
    public let jti: String
    /// Audience: never set on refresh tokens; a token carrying one is refused.
    let aud: String?
    /// Not-before: never set by Gatehouse but checked when present.
    let nbf: Int?

    /// Creates claims. Internal: claims come from `TokenIssuer` or from decoding, both of
    /// which guarantee that `sub` and `sid` are UUIDs.
    init(
        sub: String, version: Int, sid: String, gen: Int, iat: Int, exp: Int, iss: String, jti: String,
        aud: String? = nil, nbf: Int? = nil
    ) {
        self.sub = sub
        self.version = version
        self.sid = sid
        self.gen = gen
        self.iat = iat
        self.exp = exp
        self.iss = iss
        self.jti = jti
        self.aud = aud
        self.nbf = nbf
    }

    /// The user id as a UUID (validated when decoded).
    public var userID: UUID { UUID(uuidString: sub)! }
    /// The session id as a UUID (validated when decoded).
    public var sessionID: UUID { UUID(uuidString: sid)! }

    enum CodingKeys: String, CodingKey {
        case sub, version, sid, gen, iat, exp, iss, jti, aud, nbf
    }

    /// Reads the claims from a parsed payload; `nil` when any is missing or malformed
    /// (a negative `version` or `gen` included: Gatehouse never issues one).
    init?(claims: ClaimSet) {
        guard let sub = claims.uuid("sub"), let version = claims.integer("version"), version >= 0, let sid = claims.uuid("sid"),
              let gen = claims.integer("gen"), gen >= 0, let iat = claims.integer("iat"), let exp = claims.integer("exp"),
              let iss = claims.string("iss"), let jti = claims.string("jti"),
              case .some(let aud) = claims.audience(), case .some(let nbf) = claims.optionalInteger("nbf")
        else { return nil }
        self.init(sub: sub, version: version, sid: sid, gen: gen, iat: iat, exp: exp, iss: iss, jti: jti, aud: aud, nbf: nbf)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.sub = try c.decodeUUIDString(forKey: .sub)
        self.version = try c.decode(Int.self, forKey: .version)
        self.sid = try c.decodeUUIDString(forKey: .sid)
        self.gen = try c.decode(Int.self, forKey: .gen)
        self.iat = try c.decode(Int.self, forKey: .iat)
        self.exp = try c.decode(Int.self, forKey: .exp)
        self.iss = try c.decode(String.self, forKey: .iss)
        self.jti = try c.decode(String.self, forKey: .jti)
        self.aud = try c.decodeAudience(forKey: .aud)
        self.nbf = try c.decodeIfPresent(Int.self, forKey: .nbf)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(sub, forKey: .sub)
        try c.encode(version, forKey: .version)
        try c.encode(sid, forKey: .sid)
        try c.encode(gen, forKey: .gen)
        try c.encode(iat, forKey: .iat)
        try c.encode(exp, forKey: .exp)
        try c.encode(iss, forKey: .iss)
        try c.encode(jti, forKey: .jti)
        try c.encodeIfPresent(aud, forKey: .aud)
        try c.encodeIfPresent(nbf, forKey: .nbf)
    }
}

extension RefreshClaims {
    /// The claims as a JSON object with sorted keys, written directly: the payload of
    /// the refresh token.
    var json: [UInt8] {
        var object = JSONObjectWriter()
        if let aud { object.string("aud", aud) }
        object.integer("exp", exp)
        object.integer("gen", gen)
        object.integer("iat", iat)
        object.string("iss", iss)
        object.string("jti", jti)
        if let nbf { object.integer("nbf", nbf) }
        object.string("sid", sid)
        object.string("sub", sub)
        object.integer("version", version)
        return object.finish()
    }
}
