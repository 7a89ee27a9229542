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
