import Foundation

/// The claims of an access token, exactly those of SPEC.md §3.1.
///
/// Decoding is strict: `sub` and `sid` must be UUIDs and `role` a known role, so a token
/// that merely has a valid signature cannot smuggle odd values into a handler. The type
/// has no `gen` or `jti` and requires `role`, so a refresh token never decodes as one.
public struct AccessClaims: Codable, Sendable, Equatable {
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
    package let nbf: Int?

    /// Creates claims. Internal: claims come from `TokenIssuer` or from decoding, both of
    /// which guarantee that `sub` and `sid` are UUIDs.
    package init(sub: String, role: Role, version: Int, sid: String, iat: Int, exp: Int, iss: String, aud: String?, nbf: Int? = nil) {
        self.sub = sub
        self.role = role
        self.version = version
        self.sid = sid
        self.iat = iat
        self.exp = exp
        self.iss = iss
        self.aud = aud
        self.nbf = nbf
    }

    /// The user id as a UUID (validated when decoded).
    public var userID: UUID { UUID(uuidString: sub)! }
    /// The session id as a UUID (validated when decoded).
    public var sessionID: UUID { UUID(uuidString: sid)! }

    enum CodingKeys: String, CodingKey {
        case sub, role, version, sid, iat, exp, iss, aud, nbf
    }

    /// Reads the claims from a parsed payload; `nil` when any is missing or malformed
    /// (a negative `version` included: Gatehouse never issues one).
    package init?(claims: ClaimSet) {
        guard let sub = claims.uuid("sub"), let role = claims.string("role").flatMap(Role.init(rawValue:)),
              let version = claims.integer("version"), version >= 0, let sid = claims.uuid("sid"),
              let iat = claims.integer("iat"), let exp = claims.integer("exp"), let iss = claims.string("iss"),
              case .some(let aud) = claims.audience(), case .some(let nbf) = claims.optionalInteger("nbf")
        else { return nil }
        self.init(sub: sub, role: role, version: version, sid: sid, iat: iat, exp: exp, iss: iss, aud: aud, nbf: nbf)
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
}

extension AccessClaims {
    /// The claims as a JSON object with sorted keys, written directly: this is the body
    /// of `GET /users/me`, on the path every authenticated request takes.
    public var json: [UInt8] {
        var object = JSONObjectWriter()
        if let aud { object.string("aud", aud) }
        object.integer("exp", exp)
        object.integer("iat", iat)
        object.string("iss", iss)
        if let nbf { object.integer("nbf", nbf) }
        object.string("role", role.rawValue)
        object.string("sid", sid)
        object.string("sub", sub)
        object.integer("version", version)
        return object.finish()
    }
}

/// A flat JSON object written member by member, in the order given (callers give sorted
/// keys): the token payloads and the `/users/me` body.
package struct JSONObjectWriter {
    private var out: [UInt8] = []
    private var first = true

    package init() {
        out.reserveCapacity(256)
    }

    private mutating func key(_ name: String) {
        out.append(first ? UInt8(ascii: "{") : UInt8(ascii: ","))
        first = false
        JSONText.appendString(name, to: &out)
        out.append(UInt8(ascii: ":"))
    }

    package mutating func string(_ name: String, _ value: String) {
        key(name)
        JSONText.appendString(value, to: &out)
    }

    package mutating func integer(_ name: String, _ value: Int) {
        key(name)
        out.append(contentsOf: String(value).utf8)
    }

    /// The text, closed (`{}` when no member was written).
    package mutating func finish() -> [UInt8] {
        if first { out.append(UInt8(ascii: "{")) }
        out.append(UInt8(ascii: "}"))
        return out
    }
}

/// Writing JSON text by hand.
package enum JSONText {
    /// Appends `text` as a JSON string literal: quotes, backslashes and control
    /// characters escaped, everything else as UTF-8.
    package static func appendString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Claims are almost always plain: copy them whole unless something needs escaping.
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out.append(contentsOf: text.utf8)
            out.append(UInt8(ascii: "\""))
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), byte])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x00..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
