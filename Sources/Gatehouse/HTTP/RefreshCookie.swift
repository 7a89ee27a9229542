import Hummingbird

/// The refresh-token cookie of SPEC.md §3.1:
/// `refreshToken=<jwt>; Path=/api/v1/auth/refresh; Max-Age=<ttl>; HttpOnly; SameSite=Strict[; Secure]`.
///
/// Scoped to the refresh path so it is sent nowhere else, `HttpOnly` so scripts cannot
/// read it, `SameSite=Strict` so other sites cannot make a browser send it.
public struct RefreshCookie: Sendable {
    /// Cookie name.
    public static let name = "refreshToken"

    /// The path the cookie is scoped to (the refresh endpoint).
    public let path: String
    /// Max-Age in seconds.
    public let maxAge: Int
    /// Whether to add `Secure` (production).
    public let secure: Bool

    /// Creates the cookie policy.
    public init(path: String, maxAge: Int, secure: Bool) {
        self.path = path
        self.maxAge = maxAge
        self.secure = secure
    }

    /// `Set-Cookie` value carrying a token.
    public func setting(_ token: String) -> String {
        "\(Self.name)=\(token); Path=\(path); Max-Age=\(maxAge); HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }

    /// `Set-Cookie` value that deletes the cookie (same name, path and attributes).
    public var clearing: String {
        "\(Self.name)=; Path=\(path); Max-Age=0; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }

    /// The token a request presents, if any.
    static func token(in request: Request) -> String? {
        guard let value = request.cookies[name]?.value, !value.isEmpty else { return nil }
        return value
    }
}
