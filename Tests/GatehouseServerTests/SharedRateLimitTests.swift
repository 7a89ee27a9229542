import FluentKit
import Foundation
import Gatehouse
@testable import GatehouseFluent
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@testable import GatehouseServer

/// SPEC.md §3.8 `RATE_LIMIT_STORE=database`: limits counted in the database, shared by
/// every instance.
@Suite struct SharedRateLimitTests {
    static func withLimiter<T: Sendable>(
        _ limit: RateLimit, _ body: @Sendable (DatabaseRateLimiter, TemporaryDatabase) async throws -> T
    ) async throws -> T {
        let database = TemporaryDatabase()
        defer { database.remove() }
        let logger = Logger(label: "test")
        let serving = try await DatabaseSetup.openServing(database.location, poolSize: 2, logger: logger)
        do {
            let result = try await body(DatabaseRateLimiter(provider: serving.provider, name: "login", limit: limit), database)
            await serving.provider.close()
            await serving.databases.shutdownAsync()
            return result
        } catch {
            await serving.provider.close()
            await serving.databases.shutdownAsync()
            throw error
        }
    }

    @Test func countsFixedWindowsAndDoesNotCountRefusals() async throws {
        try await Self.withLimiter(RateLimit(3, per: 60)) { limiter, _ in
            let start = Date(timeIntervalSince1970: 1_800_000_000)
            for offset in 0..<3 {
                #expect(try await limiter.acquire("203.0.113.7", now: start.addingTimeInterval(Double(offset))) == .allowed)
            }
            #expect(try await limiter.acquire("203.0.113.7", now: start.addingTimeInterval(10)) == .limited(retryAfter: 50))
            #expect(try await limiter.acquire("203.0.113.7", now: start.addingTimeInterval(59.5)) == .limited(retryAfter: 1))
            // Another key has its own window.
            #expect(try await limiter.acquire("203.0.113.8", now: start.addingTimeInterval(10)) == .allowed)
            // The window ends: a fresh one (the refusals were not counted into it).
            for offset in 0..<3 {
                #expect(try await limiter.acquire("203.0.113.7", now: start.addingTimeInterval(60 + Double(offset))) == .allowed)
            }
            #expect(try await limiter.acquire("203.0.113.7", now: start.addingTimeInterval(63)) == .limited(retryAfter: 57))
            try await limiter.reset("203.0.113.7")
            #expect(try await limiter.acquire("203.0.113.7", now: start.addingTimeInterval(64)) == .allowed)
        }
    }

    @Test func anyKeyIsStoredSafely() async throws {
        try await Self.withLimiter(RateLimit(1, per: 60)) { limiter, _ in
            let now = Date(timeIntervalSince1970: 1_800_000_000)
            let keys = ["a\u{0}b", String(repeating: "€", count: 20_000), "'; DROP TABLE gatehouse_users; --", ""]
            for key in keys {
                let first = try await limiter.acquire(key, now: now)
                let second = try await limiter.acquire(key, now: now)
                #expect(first == .allowed)
                #expect(second == .limited(retryAfter: 60))
            }
        }
    }

    @Test func concurrentEventsNeverExceedTheLimit() async throws {
        try await Self.withLimiter(RateLimit(10, per: 60)) { limiter, _ in
            let now = Date(timeIntervalSince1970: 1_800_000_000)
            let allowed = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<40 { group.addTask { try await limiter.acquire("k", now: now) == .allowed } }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(allowed == 10)
        }
    }

    @Test func expiredWindowsArePruned() async throws {
        try await Self.withLimiter(RateLimit(1, per: 60)) { limiter, database in
            let start = Date(timeIntervalSince1970: 1_800_000_000)
            for index in 0..<5 { _ = try await limiter.acquire("old\(index)", now: start) }
            _ = try await limiter.acquire("fresh", now: start.addingTimeInterval(120))
            let deleted = try await limiter.deleteExpired(before: start.addingTimeInterval(61), limit: 100, logger: Logger(label: "test"))
            #expect(deleted == 5)
            #expect(try await count("SELECT COUNT(*) AS n FROM gatehouse_rate_limits", in: database) == 1)
        }
    }

    /// Two instances on one database: attempts alternating between them share one limit.
    @Test func twoInstancesShareTheLoginLimit() async throws {
        let database = TemporaryDatabase()
        defer { database.remove() }
        let limits = RateLimits(login: RateLimit(3, per: 60), register: nil, refresh: nil, loginFailuresPerAccount: nil)
        let settings = TestServer.settings(rateLimits: limits)
        // Create the schema once, so the two instances do not race to migrate.
        await DatabaseSetup.migrateForTests(database)
        try await TestServer.withApp(settings, database: database, clock: nil, rateLimitStore: .database) { first in
            try await TestServer.withApp(settings, database: database, clock: nil, rateLimitStore: .database) { second in
                var statuses: [Int] = []
                for attempt in 0..<4 {
                    let client = attempt.isMultiple(of: 2) ? first : second
                    statuses.append(Int(try await client.login(email: "nobody@example.com", password: "wrong-guess").status.code))
                }
                #expect(statuses == [401, 401, 401, 429])
                expectError(try await first.login(email: "nobody@example.com"), .tooManyRequests, "Too many requests")
                expectError(try await second.login(email: "nobody@example.com"), .tooManyRequests, "Too many requests")
            }
        }
    }

    @Test func theStoreIsConfigured() throws {
        let environment = ["JWT_ACCESS_SECRET": String(repeating: "a", count: 40), "JWT_REFRESH_SECRET": String(repeating: "b", count: 40)]
        #expect(try EnvironmentLoader(environment: environment).load().rateLimitStore == .memory)
        #expect(try EnvironmentLoader(environment: environment.merging(["RATE_LIMIT_STORE": "database"]) { $1 }).load().rateLimitStore == .database)
        #expect(throws: ConfigurationErrors.self) {
            try EnvironmentLoader(environment: environment.merging(["RATE_LIMIT_STORE": "redis"]) { $1 }).load()
        }
    }
}

extension DatabaseSetup {
    /// Migrates `database` and closes it again.
    static func migrateForTests(_ database: TemporaryDatabase) async {
        if let databases = try? await openMigrated(database.location, poolSize: 1, logger: Logger(label: "test")) {
            await databases.shutdownAsync()
        }
    }
}
