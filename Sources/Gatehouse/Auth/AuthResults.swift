/// Tokens and user returned by register and login.
public struct AuthResult: Sendable {
    public let accessToken: String
    public let refreshToken: String
    public let user: UserRecord
}

/// Tokens returned by a refresh.
public struct RefreshResult: Sendable {
    public let accessToken: String
    public let refreshToken: String
}

/// Who is asking, recorded on the session (per-device listing later).
public struct ClientInfo: Sendable, Equatable {
    public var userAgent: String?
    public var ip: String?

    /// Creates client info; a user agent is cut to 512 characters.
    public init(userAgent: String? = nil, ip: String? = nil) {
        self.userAgent = userAgent.map { String($0.prefix(512)) }
        self.ip = ip
    }
}

/// What `POST /auth/logout` revokes.
public enum LogoutScope: String, Sendable, CaseIterable {
    /// Every session of the user, and `tokenVersion` is incremented (the seed's logout-all).
    case all
    /// Only the session of the access token's `sid`.
    case local
    /// Every session but the one of the access token's `sid`.
    case others
}
