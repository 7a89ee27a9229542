import Crypto
import FluentKit
import Foundation
import Gatehouse
import Logging
import SQLKit

/// A `RateLimiter` counted in the database (`RATE_LIMIT_STORE=database`), so every
/// instance of a fleet, and every process on one SQLite file, shares each limit: a client
/// spreading attempts over instances gets the limit it would get from one.
///
/// Fixed windows, like `InMemoryRateLimiter`: one row per limiter and key, counted by one
/// atomic upsert per event (`INSERT … ON CONFLICT … DO UPDATE … RETURNING`, the same
/// statement on SQLite and PostgreSQL). A refused event is not counted: the count stops
/// one past the limit, which is how the statement says "refused". Keys are stored as
/// digests, so no client text (a NUL, 60 KB) reaches SQL. Expired windows are deleted by
/// the pruner (`deleteExpired`).
public struct DatabaseRateLimiter: RateLimiter, PrunableStore {
    let provider: FluentDatabaseProvider
    let name: String
    let limit: RateLimit
    let logger: Logger

    /// A limiter named `name` (one per limit: `login`, `register`, …) counting `limit`.
    public init(provider: FluentDatabaseProvider, name: String, limit: RateLimit, logger: Logger = Logger(label: "gatehouse.ratelimit")) {
        self.provider = provider
        self.name = name
        self.limit = limit
        self.logger = logger
    }

    /// The stored key: the limiter's name and the first 128 bits of the key's SHA-256.
    func storedKey(_ key: String) -> String {
        name + ":" + Hex.encode(SHA256.hash(data: Array(key.utf8)).prefix(16))
    }

    public func acquire(_ key: String, now: Date) async throws -> RateLimitDecision {
        let sql = try provider.sqlDatabase(logger: logger)
        let nowMS = Int64((now.timeIntervalSince1970 * 1_000).rounded(.down))
        let end = nowMS + Int64(limit.window) * 1_000
        let row = try await sql.raw("""
            INSERT INTO gatehouse_rate_limits (key, window_end, count) VALUES (\(bind: storedKey(key)), \(bind: end), 1)
            ON CONFLICT (key) DO UPDATE SET
                count = CASE WHEN gatehouse_rate_limits.window_end <= \(bind: nowMS) THEN 1
                             WHEN gatehouse_rate_limits.count <= \(bind: limit.count) THEN gatehouse_rate_limits.count + 1
                             ELSE gatehouse_rate_limits.count END,
                window_end = CASE WHEN gatehouse_rate_limits.window_end <= \(bind: nowMS) THEN \(bind: end)
                                  ELSE gatehouse_rate_limits.window_end END
            RETURNING count, window_end
            """).first()
        guard let row else { return .allowed }
        let count = try row.decode(column: "count", as: Int.self)
        guard count > limit.count else { return .allowed }
        let windowEnd = try row.decode(column: "window_end", as: Int64.self)
        // Whole seconds, rounded up: waiting that long always reaches the end.
        let wait = Double(windowEnd - nowMS) / 1_000
        return .limited(retryAfter: max(1, Int(wait.rounded(.up))))
    }

    public func reset(_ key: String) async throws {
        try await provider.sqlDatabase(logger: logger)
            .raw("DELETE FROM gatehouse_rate_limits WHERE key = \(bind: storedKey(key))").run()
    }

    /// The table of every limiter, for the pruner.
    public static func store(provider: FluentDatabaseProvider) -> DatabaseRateLimiter {
        DatabaseRateLimiter(provider: provider, name: "", limit: RateLimit(1, per: 1))
    }

    /// Deletes at most `limit` windows that ended before `cutoff` (any limiter's).
    public func deleteExpired(before cutoff: Date, limit: Int, logger: Logger) async throws -> Int {
        let cutoffMS = Int64((cutoff.timeIntervalSince1970 * 1_000).rounded(.down))
        return try await provider.sqlDatabase(logger: logger).raw("""
            DELETE FROM gatehouse_rate_limits WHERE key IN (
                SELECT key FROM gatehouse_rate_limits WHERE window_end < \(bind: cutoffMS) LIMIT \(bind: limit)
            ) RETURNING key
            """).all().count
    }
}

extension RateLimiters {
    /// Limiters for `limits` counted in the database of `provider` (`RATE_LIMIT_STORE=database`).
    public static func database(_ limits: RateLimits, provider: FluentDatabaseProvider) -> RateLimiters {
        RateLimiters(
            login: limits.login.map { DatabaseRateLimiter(provider: provider, name: "login", limit: $0) },
            register: limits.register.map { DatabaseRateLimiter(provider: provider, name: "register", limit: $0) },
            refresh: limits.refresh.map { DatabaseRateLimiter(provider: provider, name: "refresh", limit: $0) },
            loginFailuresPerAccount: limits.loginFailuresPerAccount.map {
                DatabaseRateLimiter(provider: provider, name: "login_account", limit: $0)
            }
        )
    }
}
