/// Everything the library needs to issue and verify tokens and run the auth flows.
///
/// A plain value with the defaults of SPEC.md §1. The executable builds it from the
/// environment; an application embedding Gatehouse builds it however it likes.
/// `description` never shows the secrets.
public struct GatehouseConfiguration: Sendable, CustomStringConvertible {
    /// `production` turns on `Secure` cookies.
    public var environment: AppEnvironment
    /// HS256 key for access tokens (at least 32 characters).
    public var accessSecret: String
    /// HS256 key for refresh tokens (at least 32 characters, different from `accessSecret`).
    public var refreshSecret: String
    /// Access-token lifetime in seconds.
    public var accessTokenTTL: Int
    /// Refresh-token (and session idle) lifetime in seconds.
    public var refreshTokenTTL: Int
    /// `iss` claim, set and verified.
    public var issuer: String
    /// `aud` claim; when set it is set and verified.
    public var audience: String?
    /// bcrypt cost (4–31).
    public var bcryptCost: Int
    /// Seconds after a rotation during which the previous refresh token still answers (§3.3).
    public var refreshReuseInterval: Int
    /// Clock skew tolerated when checking `exp`, `iat` and `nbf`; SPEC.md allows no more than 30 s.
    public var clockSkew: Int
    /// Per-IP and per-account limits (SPEC.md §1, §4).
    public var rateLimits: RateLimits
    /// Whether the client IP is taken from `X-Forwarded-For` (`TRUST_PROXY`).
    public var trustProxy: Bool

    /// Creates a configuration; every parameter but the secrets has the SPEC.md default.
    public init(
        environment: AppEnvironment = .development,
        accessSecret: String,
        refreshSecret: String,
        accessTokenTTL: Int = 15 * 60,
        refreshTokenTTL: Int = 7 * 86_400,
        issuer: String = "gatehouse",
        audience: String? = nil,
        bcryptCost: Int = 12,
        refreshReuseInterval: Int = 10,
        clockSkew: Int = 30,
        rateLimits: RateLimits = RateLimits(),
        trustProxy: Bool = false
    ) {
        self.environment = environment
        self.accessSecret = accessSecret
        self.refreshSecret = refreshSecret
        self.accessTokenTTL = accessTokenTTL
        self.refreshTokenTTL = refreshTokenTTL
        self.issuer = issuer
        self.audience = audience
        self.bcryptCost = bcryptCost
        self.refreshReuseInterval = refreshReuseInterval
        self.clockSkew = min(max(clockSkew, 0), 30)
        self.rateLimits = rateLimits
        self.trustProxy = trustProxy
    }

    /// Whether cookies carry `Secure`.
    public var secureCookies: Bool { environment == .production }

    public var description: String {
        "GatehouseConfiguration(environment: \(environment.rawValue), accessSecret: <redacted>, "
            + "refreshSecret: <redacted>, accessTokenTTL: \(accessTokenTTL)s, refreshTokenTTL: \(refreshTokenTTL)s, "
            + "issuer: \(issuer), audience: \(audience ?? "nil"), bcryptCost: \(bcryptCost), "
            + "refreshReuseInterval: \(refreshReuseInterval)s, clockSkew: \(clockSkew)s, "
            + "rateLimits: \(rateLimits), trustProxy: \(trustProxy))"
    }
}

/// The deployment environment (`APP_ENV`).
public enum AppEnvironment: String, Sendable, CaseIterable {
    case development
    case production
}
