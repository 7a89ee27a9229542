import FluentKit
import Foundation
import Gatehouse
import GatehouseFluent
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

@testable import GatehouseServer

/// SPEC.md §1 and §4: per-IP limits, per-account throttling, `TRUST_PROXY`, `off`.
/// Windows are short and the clock is moved by hand, except in the one test that
/// checks `Retry-After` against the real clock.
@Suite struct RateLimitTests {
    static func only(
        login: RateLimit? = nil, register: RateLimit? = nil, refresh: RateLimit? = nil, account: RateLimit? = nil
    ) -> RateLimits {
        RateLimits(login: login, register: register, refresh: refresh, loginFailuresPerAccount: account)
    }

    func expectTooMany(_ response: TestResponse, retryAfter: Int? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        expectError(response, .tooManyRequests, "Too many requests", sourceLocation: sourceLocation)
        let header = response.headers[.retryAfter]
        #expect(header.flatMap(Int.init).map { $0 >= 1 } == true, "Retry-After: \(header ?? "none")", sourceLocation: sourceLocation)
        if let retryAfter {
            #expect(header == String(retryAfter), sourceLocation: sourceLocation)
        }
    }

    @Test func loginIsLimitedPerClientIPAndTheWaitIsTruthful() async throws {
        let clock = TestClock()
        let settings = TestServer.settings(rateLimits: Self.only(login: RateLimit(3, per: 2)))
        try await TestServer.withApp(settings, clock: clock) { client in
            _ = try await client.registered(email: "ip@example.com")
            for _ in 0..<3 {
                expectError(try await client.login(email: "ip@example.com", password: "wrong-password"), .unauthorized)
            }
            // Past the limit even the right password is refused.
            expectTooMany(try await client.login(email: "ip@example.com"), retryAfter: 2)
            clock.advance(1.5)
            expectTooMany(try await client.login(email: "ip@example.com"), retryAfter: 1)
            clock.advance(1)
            #expect(try await client.login(email: "ip@example.com").status == .ok)
        }
    }

    @Test func registrationIsLimitedPerClientIP() async throws {
        let clock = TestClock()
        let settings = TestServer.settings(rateLimits: Self.only(register: RateLimit(2, per: 3_600)))
        try await TestServer.withApp(settings, clock: clock) { client in
            #expect(try await client.register(email: "r1@example.com").status == .created)
            // A duplicate counts too, so the limit also slows down probing for accounts.
            expectError(try await client.register(email: "r1@example.com"), .conflict)
            expectTooMany(try await client.register(email: "r3@example.com"), retryAfter: 3_600)
            clock.advance(3_600)
            #expect(try await client.register(email: "r3@example.com").status == .created)
        }
    }

    @Test func refreshIsLimitedPerClientIPEvenWithGarbageTokens() async throws {
        let clock = TestClock()
        let settings = TestServer.settings(rateLimits: Self.only(refresh: RateLimit(3, per: 60)))
        try await TestServer.withApp(settings, clock: clock) { client in
            var (_, cookie) = try await client.registered(email: "rf@example.com")
            let first = try await client.refresh(cookie: cookie)
            #expect(first.status == .ok)
            cookie = try #require(first.refreshCookie)
            expectError(try await client.refresh(cookie: "forged.token.value"), .unauthorized, "Invalid or expired refresh token")
            expectError(try await client.refresh(cookie: "another-forgery"), .unauthorized)
            expectTooMany(try await client.refresh(cookie: cookie), retryAfter: 60)
            clock.advance(60)
            #expect(try await client.refresh(cookie: cookie).status == .ok)
        }
    }

    @Test func offReallyDisablesEveryLimit() async throws {
        let loaded = try EnvironmentLoader(environment: [
            "RATE_LIMIT_LOGIN": "off", "RATE_LIMIT_REGISTER": "off", "RATE_LIMIT_REFRESH": "off", "LOGIN_FAILURES_PER_ACCOUNT": "off",
            "BCRYPT_COST": "4",
        ]).load()
        #expect(loaded.gatehouse.rateLimits == .off)
        try await TestServer.withApp(loaded.gatehouse) { client in
            for index in 0..<30 {
                #expect(try await client.register(email: "off\(index)@example.com").status == .created)
            }
            for _ in 0..<30 {
                expectError(try await client.login(email: "off0@example.com", password: "wrong-password"), .unauthorized)
            }
            #expect(try await client.login(email: "off0@example.com").status == .ok)
            expectError(try await client.refresh(cookie: "garbage"), .unauthorized)
        }
    }

    @Test func theDefaultsLimitLoginWithoutConfiguration() async throws {
        // SPEC.md defaults: 5 failures per account, 10 attempts per IP per minute.
        let settings = TestServer.settings(rateLimits: RateLimits())
        try await TestServer.withApp(settings) { client in
            for _ in 0..<5 {
                expectError(try await client.login(email: "victim@example.com", password: "wrong-password"), .unauthorized)
            }
            expectTooMany(try await client.login(email: "victim@example.com", password: "wrong-password"), retryAfter: 900)
            for index in 0..<4 {
                expectError(try await client.login(email: "other\(index)@example.com", password: "wrong-password"), .unauthorized)
            }
            expectTooMany(try await client.login(email: "fresh@example.com", password: "wrong-password"), retryAfter: 60)
        }
    }

    @Test func failedLoginsThrottleTheAccountWhateverThePassword() async throws {
        let clock = TestClock()
        let settings = TestServer.settings(rateLimits: Self.only(account: RateLimit(3, per: 900)))
        try await TestServer.withApp(settings, clock: clock) { client in
            _ = try await client.registered(email: "target@example.com")
            _ = try await client.registered(email: "bystander@example.com")
            for _ in 0..<3 {
                expectError(try await client.login(email: "Target@Example.com ", password: "guess-guess"), .unauthorized)
            }
            expectTooMany(try await client.login(email: "target@example.com"), retryAfter: 900)
            // Other accounts are untouched, and their success resets nothing of the target's.
            #expect(try await client.login(email: "bystander@example.com").status == .ok)
            expectTooMany(try await client.login(email: "TARGET@example.com"))
            clock.advance(900)
            #expect(try await client.login(email: "target@example.com").status == .ok)
        }
    }

    @Test func aSuccessfulLoginClearsOnlyItsOwnFailures() async throws {
        let settings = TestServer.settings(rateLimits: Self.only(account: RateLimit(3, per: 900)))
        try await TestServer.withApp(settings) { client in
            _ = try await client.registered(email: "typo@example.com")
            _ = try await client.registered(email: "neighbour@example.com")
            for _ in 0..<2 {
                expectError(try await client.login(email: "typo@example.com", password: "tpyo-tpyo"), .unauthorized)
                expectError(try await client.login(email: "neighbour@example.com", password: "nope-nope"), .unauthorized)
            }
            #expect(try await client.login(email: "typo@example.com").status == .ok)
            for _ in 0..<3 {
                expectError(try await client.login(email: "typo@example.com", password: "tpyo-tpyo"), .unauthorized)
            }
            expectTooMany(try await client.login(email: "typo@example.com"))
            expectError(try await client.login(email: "neighbour@example.com", password: "nope-nope"), .unauthorized)
            expectTooMany(try await client.login(email: "neighbour@example.com"))
        }
    }

    /// An attacker cannot tell a throttled unknown email from a throttled real one: same
    /// status, body and headers.
    @Test func throttledUnknownAndRealEmailsLookTheSame() async throws {
        let settings = TestServer.settings(rateLimits: Self.only(account: RateLimit(2, per: 600)))
        try await TestServer.withApp(settings) { client in
            _ = try await client.registered(email: "real@example.com")
            var answers: [String: TestResponse] = [:]
            for email in ["real@example.com", "ghost@example.com"] {
                for _ in 0..<2 {
                    expectError(try await client.login(email: email, password: "wrong-password"), .unauthorized, "Invalid email or password")
                }
                answers[email] = try await client.login(email: email, password: "wrong-password")
            }
            let real = try #require(answers["real@example.com"])
            let ghost = try #require(answers["ghost@example.com"])
            expectTooMany(real)
            #expect(real.status == ghost.status)
            #expect(real.text == ghost.text)
            // Every header alike but the request id, which is each request's own.
            var (realHeaders, ghostHeaders) = (real.headers, ghost.headers)
            realHeaders[.xRequestID] = nil
            ghostHeaders[.xRequestID] = nil
            #expect(realHeaders == ghostHeaders)
        }
    }

    /// Parallel guesses cannot all slip in before the first failure is counted.
    @Test func concurrentGuessesAreCountedBeforeTheyAreChecked() async throws {
        let settings = TestServer.settings(rateLimits: Self.only(account: RateLimit(3, per: 900)))
        try await TestServer.withApp(settings) { client in
            _ = try await client.registered(email: "burst@example.com")
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<20 {
                    group.addTask { try await client.login(email: "burst@example.com", password: "wrong-password").status }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .unauthorized }.count == 3)
            #expect(statuses.filter { $0 == .tooManyRequests }.count == 17)
        }
    }

    /// Without `TRUST_PROXY` a client cannot buy fresh limits by inventing
    /// `X-Forwarded-For` values.
    @Test func aSpoofedForwardedForIsIgnoredWhenTheProxyIsNotTrusted() async throws {
        let settings = TestServer.settings(rateLimits: Self.only(login: RateLimit(2, per: 60)))
        try await TestServer.withApp(settings) { client in
            for index in 0..<2 {
                let response = try await client.postJSON(
                    "/api/v1/auth/login", #"{"email":"x@example.com","password":"wrong-password"}"#,
                    headers: [.xForwardedFor: "203.0.113.\(index)"]
                )
                expectError(response, .unauthorized)
            }
            let spoofed = try await client.postJSON(
                "/api/v1/auth/login", #"{"email":"x@example.com","password":"wrong-password"}"#,
                headers: [.xForwardedFor: "198.51.100.77"]
            )
            expectTooMany(spoofed)
        }
    }

    @Test func behindATrustedProxyTheLastForwardedAddressIsTheClient() async throws {
        let database = TemporaryDatabase()
        defer { database.remove() }
        let settings = TestServer.settings(rateLimits: Self.only(login: RateLimit(2, per: 60)), trustProxy: true)
        let sessionID = try await TestServer.withApp(settings, database: database) { client in
            func login(from forwarded: String) async throws -> TestResponse {
                try await client.postJSON(
                    "/api/v1/auth/login", #"{"email":"x@example.com","password":"wrong-password"}"#,
                    headers: [.xForwardedFor: forwarded]
                )
            }
            // The client may write anything first; the proxy's own entry is the last.
            for index in 0..<2 {
                expectError(try await login(from: "10.9.9.\(index), 203.0.113.5"), .unauthorized)
            }
            expectTooMany(try await login(from: "203.0.113.5"))
            expectError(try await login(from: "203.0.113.6"), .unauthorized)
            // The session records the forwarded address.
            let registered = try await client.postJSON(
                "/api/v1/auth/register", #"{"name":"Proxied","email":"proxied@example.com","password":"secret123"}"#,
                headers: [.xForwardedFor: "192.0.2.44"]
            )
            #expect(registered.status == .created)
            let auth = try registered.decode(AuthResponse.self)
            return try #require(try payload(of: auth.accessToken)["sid"] as? String)
        }
        let databases = try await DatabaseSetup.openMigrated(database.location, poolSize: 1, logger: Logger(label: "test"))
        let session = try await FluentSessionRepository(provider: FluentDatabaseProvider(databases: databases))
            .find(id: try #require(UUID(uuidString: sessionID)), logger: Logger(label: "test"))
        await databases.shutdownAsync()
        #expect(session?.ip == "192.0.2.44")
    }

    /// Over a real socket with the real clock: a client that waits `Retry-After`
    /// seconds gets through. (One attempt per three seconds, so only two requests need
    /// to land inside the window even on a loaded machine.)
    @Test func waitingRetryAfterSecondsOnTheRealClockGetsThrough() async throws {
        let settings = TestServer.settings(rateLimits: Self.only(login: RateLimit(1, per: 3)))
        try await TestServer.withApp(settings, clock: nil, setup: .live) { client in
            expectError(try await client.login(email: "wait@example.com", password: "wrong-password"), .unauthorized)
            let refused = try await client.login(email: "wait@example.com", password: "wrong-password")
            expectTooMany(refused)
            let wait = try #require(refused.headers[.retryAfter].flatMap(Int.init))
            #expect(wait <= 3)
            try await Task.sleep(for: .seconds(wait))
            expectError(try await client.login(email: "wait@example.com", password: "wrong-password"), .unauthorized)
        }
    }
}

extension HTTPField.Name {
    static var xForwardedFor: Self { .init("X-Forwarded-For")! }
}
