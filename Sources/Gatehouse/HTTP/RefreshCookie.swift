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

    /// Most `refreshToken` cookies of one request that are tried.
    public static let maximumCandidates = 4

    /// Every distinct, non-empty `refreshToken` value the request presents, in the order
    /// sent, at most `maximumCandidates`.
    ///
    /// A browser sends every cookie whose domain and path match, so a cookie planted by a
    /// same-site sibling (`Domain=example.com`) arrives beside ours with the same name.
    /// Reading only the first one (as `request.cookies` does) let such a cookie keep a
    /// user signed out; the service tries each instead (README, "Cookie scoping has limits").
    static func tokens(in request: Request) -> [String] {
        var tokens: [String] = []
        for field in request.headers where field.name == .cookie {
            for pair in field.value.split(separator: ";") {
                let trimmed = pair.drop { $0 == " " || $0 == "\t" }
                guard let equals = trimmed.firstIndex(of: "="), trimmed[..<equals] == Self.name else { continue }
                var value = trimmed[trimmed.index(after: equals)...]
                while let last = value.last, last == " " || last == "\t" { value = value.dropLast() }
                let token = String(value)
                guard !token.isEmpty, !tokens.contains(token) else { continue }
                tokens.append(token)
                if tokens.count == maximumCandidates { return tokens }
            }
        }
        return tokens
    }
}
