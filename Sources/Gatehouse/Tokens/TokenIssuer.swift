import Crypto
import Foundation

/// Signs access and refresh tokens with integer `iat`/`exp`, on bytes (`HS256.sign`, or
/// `JWS.sign` with the private key of an asymmetric algorithm): no JWTKit, no actor hop,
/// no Foundation encoder.
public struct TokenIssuer: Sendable {
    let keys: SigningKeys
    let configuration: GatehouseConfiguration

    /// Creates an issuer.
    public init(keys: SigningKeys, configuration: GatehouseConfiguration) {
        self.keys = keys
        self.configuration = configuration
    }

    /// Signs an access token for a user's session, issued at `issuedAt` (Unix seconds).
    public func accessToken(userID: UUID, role: Role, version: Int, sessionID: UUID, issuedAt: Int) -> String {
        let claims = AccessClaims(
            sub: userID.uuidString.lowercased(),
            role: role,
            version: version,
            sid: sessionID.uuidString.lowercased(),
            iat: issuedAt,
            exp: issuedAt + configuration.accessTokenTTL,
            iss: configuration.issuer,
            aud: configuration.audience
        )
        guard let privateKey = keys.privateKey else { return HS256.sign(payload: claims.json, key: keys.accessKey) }
        do {
            return try JWS.sign(payload: claims.json, key: privateKey)
        } catch {
            // swift-crypto throws here only when BoringSSL cannot allocate or read its
            // random source: nothing a request can cause, and no token can be made.
            preconditionFailure("signing an access token failed: \(error)")
        }
    }

    /// Signs the refresh token of a session generation. Given the same inputs it yields
    /// the same claims (and `jti`), which is how the grace window hands out "the session's
    /// current refresh token" without storing it.
    public func refreshToken(userID: UUID, version: Int, sessionID: UUID, generation: Int, issuedAt: Int) -> String {
        let sid = sessionID.uuidString.lowercased()
        let claims = RefreshClaims(
            sub: userID.uuidString.lowercased(),
            version: version,
            sid: sid,
            gen: generation,
            iat: issuedAt,
            exp: issuedAt + configuration.refreshTokenTTL,
            iss: configuration.issuer,
            jti: Self.tokenID(sessionID: sid, generation: generation)
        )
        return HS256.sign(payload: claims.json, key: keys.refreshKey)
    }

    static func tokenID(sessionID: String, generation: Int) -> String {
        Hex.encode(SHA256.hash(data: Array("\(sessionID):\(generation)".utf8)).prefix(16))
    }
}
