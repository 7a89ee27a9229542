import Foundation

/// Counts events per key against one `RateLimit`.
///
/// `InMemoryRateLimiter` is the per-process implementation. A fleet that wants limits
/// shared across instances supplies its own (for example backed by the database);
/// everything that limits goes through this protocol.
public protocol RateLimiter: Sendable {
    /// Counts one event for `key` if the limit allows it, and says whether it does.
    /// A refused event is not counted.
    func acquire(_ key: String, now: Date) async throws -> RateLimitDecision

    /// Forgets every event counted for `key`.
    func reset(_ key: String) async throws
}

/// The answer of a `RateLimiter`.
public enum RateLimitDecision: Sendable, Equatable {
    /// The event may proceed (and was counted).
    case allowed
    /// The event is refused; after `retryAfter` whole seconds it will be allowed again.
    case limited(retryAfter: Int)
}

/// One limiter per rate limit of SPEC.md §1; `nil` means that limit is off.
public struct RateLimiters: Sendable {
    /// Login attempts per client IP.
    public var login: (any RateLimiter)?
    /// Registrations per client IP.
    public var register: (any RateLimiter)?
    /// Refreshes per client IP.
    public var refresh: (any RateLimiter)?
    /// Login attempts per lower-cased email; a successful login resets its own email.
    public var loginFailuresPerAccount: (any RateLimiter)?

    /// Creates a set of limiters.
    public init(
        login: (any RateLimiter)? = nil, register: (any RateLimiter)? = nil,
        refresh: (any RateLimiter)? = nil, loginFailuresPerAccount: (any RateLimiter)? = nil
    ) {
        self.login = login
        self.register = register
        self.refresh = refresh
        self.loginFailuresPerAccount = loginFailuresPerAccount
    }

    /// In-memory limiters for `limits`, each bounded to `capacity` keys.
    public static func inMemory(_ limits: RateLimits, capacity: Int = InMemoryRateLimiter.defaultCapacity) -> RateLimiters {
        RateLimiters(
            login: limits.login.map { InMemoryRateLimiter($0, capacity: capacity) },
            register: limits.register.map { InMemoryRateLimiter($0, capacity: capacity) },
            refresh: limits.refresh.map { InMemoryRateLimiter($0, capacity: capacity) },
            loginFailuresPerAccount: limits.loginFailuresPerAccount.map { InMemoryRateLimiter($0, capacity: capacity) }
        )
    }
}
