/// What `POST /auth/logout` revokes.
public enum LogoutScope: String, Sendable, CaseIterable {
    /// Every session of the user, and `tokenVersion` is incremented (the seed's logout-all).
    case all
    /// Only the session of the access token's `sid`.
    case local
    /// Every session but the one of the access token's `sid`.
    case others
}
