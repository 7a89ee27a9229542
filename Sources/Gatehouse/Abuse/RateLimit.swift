/// A limit of `count` events per `window` seconds, written `N/DURATION` in the
/// configuration (`10/1m`, `5/15m`, `3/2s`).
public struct RateLimit: Sendable, Equatable, CustomStringConvertible {
    /// Events allowed per window (1 to 1,000,000).
    public let count: Int
    /// Window length in seconds (at least 1).
    public let window: Int

    /// Creates a limit; `count` is clamped to 1–1,000,000 and `window` to 1 second–10
    /// years (`TimeSpan.maximumSeconds`), so no window end or wait can overflow.
    public init(_ count: Int, per window: Int) {
        self.count = min(max(count, 1), 1_000_000)
        self.window = min(max(window, 1), TimeSpan.maximumSeconds)
    }

    /// Parses `N/DURATION`; `nil` when the text is not of that form. (`off` is handled by
    /// whoever reads the setting: it means no limiter at all.)
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].count <= 7,
              parts[0].allSatisfy({ $0.isASCII && $0.isNumber }),
              let count = Int(parts[0]), (1...1_000_000).contains(count),
              let window = TimeSpan.seconds(from: String(parts[1])), window > 0
        else { return nil }
        self.init(count, per: window)
    }

    public var description: String { "\(count)/\(window)s" }
}

/// The rate limits of SPEC.md §1; `nil` turns a limit off.
public struct RateLimits: Sendable, Equatable, CustomStringConvertible {
    /// Login attempts per client IP (`RATE_LIMIT_LOGIN`, default `10/1m`).
    public var login: RateLimit?
    /// Registrations per client IP (`RATE_LIMIT_REGISTER`, default `20/1h`).
    public var register: RateLimit?
    /// Refreshes per client IP (`RATE_LIMIT_REFRESH`, default `60/1m`).
    public var refresh: RateLimit?
    /// Failed logins per email (`LOGIN_FAILURES_PER_ACCOUNT`, default `5/15m`).
    public var loginFailuresPerAccount: RateLimit?

    /// Creates limits; every parameter has the SPEC.md default.
    public init(
        login: RateLimit? = RateLimit(10, per: 60),
        register: RateLimit? = RateLimit(20, per: 3_600),
        refresh: RateLimit? = RateLimit(60, per: 60),
        loginFailuresPerAccount: RateLimit? = RateLimit(5, per: 900)
    ) {
        self.login = login
        self.register = register
        self.refresh = refresh
        self.loginFailuresPerAccount = loginFailuresPerAccount
    }

    public var description: String {
        func text(_ limit: RateLimit?) -> String { limit?.description ?? "off" }
        return "login \(text(login)), register \(text(register)), refresh \(text(refresh)), "
            + "loginFailuresPerAccount \(text(loginFailuresPerAccount))"
    }

    /// No limits at all.
    public static let off = RateLimits(login: nil, register: nil, refresh: nil, loginFailuresPerAccount: nil)
}
