import FluentKit
import Foundation
import Gatehouse
import GatehouseFluent
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InMemoryLogging
import Logging
import Synchronization
import Testing

@testable import Gatehouse
@testable import GatehouseServer

/// The findings of the adversarial review (issue 10), each as an attack that used to work.
@Suite struct HardeningTests {
    // MARK: Bad text never reaches SQL

    /// A login email that no registration could have stored (NUL, other controls, too
    /// long) is the ordinary 401, after the dummy comparison, on every backend. On
    /// PostgreSQL a NUL was a 500 (`text` cannot hold it) and an error-level log line.
    @Test(arguments: [
        "x@example.com\u{0}", "\u{0}", "x\u{0}@example.com", "x\u{1}@example.com", "x@example.com\u{7F}",
        String(repeating: "a", count: 250) + "@example.com", "x@exa\u{0}mple.com", "\u{0}\u{0}\u{0}\u{0}",
    ])
    func unstorableLoginEmailsAreTheUsual401(email: String) async throws {
        let handler = InMemoryLogHandler()
        try await TestServer.withApp(logger: Logger(label: "test") { _ in handler }) { client in
            _ = try await client.registered(email: "x@example.com")
            let response = try await client.login(email: email)
            expectError(response, .unauthorized, "Invalid email or password")
        }
        let errors = handler.entries.filter { $0.level >= .error }
        #expect(errors.isEmpty, "\(errors)")
    }

    @Test func textThatCannotBeStoredIsRefusedAtRegistration() async throws {
        try await TestServer.withApp { client in
            expectError(try await client.register(name: "Al\u{0}ice", email: "nul@example.com"), .badRequest)
            expectError(try await client.register(email: "nul\u{0}@example.com"), .badRequest)
            expectError(try await client.register(name: "Mallory\u{202E}gnp.exe", email: "bidi@example.com"), .badRequest)
            #expect(try await client.register(email: "fine@example.com", password: "pass\u{1}word").status == .created)
        }
    }

    /// `"a"` and 30,000 combining marks was stored as a 60 KB "2-character" name.
    @Test func aNameOfOneCharacterAndSixtyKilobytesIsRefused() async throws {
        let database = TemporaryDatabase()
        defer { database.remove() }
        try await TestServer.withApp(database: database) { client in
            let name = "a" + String(repeating: "\u{301}", count: 30_000)
            let response = try await client.register(name: name, email: "zalgo@example.com")
            expectError(response, .badRequest)
            #expect(response.error?.errors?.first?.field == "name")
        }
        #expect(try await rowCounts(database).users == 0)
    }

    /// A 60 KB user agent was stored in full on every session.
    @Test func sessionsKeepAtMost512BytesOfUserAgent() async throws {
        let database = TemporaryDatabase()
        defer { database.remove() }
        let agent = "Mozilla/5.0 " + String(repeating: "€", count: 20_000)
        let sessionID = try await TestServer.withApp(database: database) { client in
            let response = try await client.postJSON(
                "/api/v1/auth/register", #"{"name":"Agent","email":"agent@example.com","password":"secret123"}"#,
                headers: [.userAgent: agent]
            )
            #expect(response.status == .created)
            return try #require(try payload(of: try response.decode(AuthResponse.self).accessToken)["sid"] as? String)
        }
        let databases = try await DatabaseSetup.openMigrated(database.location, poolSize: 1, logger: Logger(label: "test"))
        let session = try await FluentSessionRepository(provider: FluentDatabaseProvider(databases: databases))
            .find(id: try #require(UUID(uuidString: sessionID)), logger: Logger(label: "test"))
        await databases.shutdownAsync()
        let stored = try #require(session?.userAgent)
        #expect(stored.utf8.count <= 512)
        #expect(stored.utf8.count >= 510)
        #expect(agent.hasPrefix(stored))
    }

    // MARK: Duplicate refresh cookies

    static func cookieHeader(_ tokens: [String]) -> String {
        tokens.map { "refreshToken=\($0)" }.joined(separator: "; ")
    }

    /// A same-site sibling can plant a second `refreshToken` cookie; it used to be read
    /// instead of ours and keep the user signed out.
    @Test func aPlantedGarbageCookieDoesNotSignTheUserOut() async throws {
        try await TestServer.withApp { client in
            var (_, cookie) = try await client.registered(email: "twice@example.com")
            for order in [["garbage", cookie], [cookie, "x.y.z"]] {
                let response = try await client.executeRequest(
                    uri: "/api/v1/auth/refresh", method: .post, headers: [.cookie: Self.cookieHeader(order)], body: nil
                )
                #expect(response.status == .ok, "\(response.text)")
                cookie = try #require(response.refreshCookie)
            }
            // Two Cookie fields (as HTTP/2 sends them) are one list.
            var headers = HTTPFields()
            headers.append(HTTPField(name: .cookie, value: "refreshToken=planted"))
            headers.append(HTTPField(name: .cookie, value: "theme=dark; refreshToken=\(cookie)"))
            let split = try await client.executeRequest(uri: "/api/v1/auth/refresh", method: .post, headers: headers, body: nil)
            #expect(split.status == .ok)
            cookie = try #require(split.refreshCookie)
            // The same token twice is one token.
            let doubled = try await client.executeRequest(
                uri: "/api/v1/auth/refresh", method: .post, headers: [.cookie: Self.cookieHeader([cookie, cookie])], body: nil
            )
            #expect(doubled.status == .ok)
        }
    }

    /// Two tokens that both verify (one planted from another account) are refused and the
    /// cookie cleared: choosing one could sign the browser into the attacker's account.
    @Test func twoValidRefreshTokensAreRefusedAndCleared() async throws {
        try await TestServer.withApp { client in
            let victim = try await client.registered(email: "victim@example.com").cookie
            let planted = try await client.registered(email: "attacker@example.com").cookie
            let response = try await client.executeRequest(
                uri: "/api/v1/auth/refresh", method: .post, headers: [.cookie: Self.cookieHeader([planted, victim])], body: nil
            )
            expectError(response, .unauthorized, "Invalid or expired refresh token")
            #expect(response.headers[.setCookie]?.hasPrefix("refreshToken=; Path=/api/v1/auth/refresh; Max-Age=0;") == true)
            // Neither session was touched: each token alone still rotates.
            #expect(try await client.refresh(cookie: victim).status == .ok)
            #expect(try await client.refresh(cookie: planted).status == .ok)
        }
    }

    @Test func aRefreshThatFailsClearsTheCookie() async throws {
        try await TestServer.withApp { client in
            let response = try await client.refresh(cookie: "garbage")
            expectError(response, .unauthorized, "Invalid or expired refresh token")
            #expect(response.headers[.setCookie]?.contains("Max-Age=0") == true)
            expectError(try await client.refresh(cookie: nil), .unauthorized, "Refresh token missing")
        }
    }

    // MARK: Proxies

    /// Behind a CDN and a load balancer (`TRUST_PROXY=2`), clients keep their own
    /// buckets; with `true` all of them had the CDN's address.
    @Test func twoProxyHopsKeepClientsInTheirOwnBuckets() async throws {
        let limits = RateLimits(login: RateLimit(2, per: 60), register: nil, refresh: nil, loginFailuresPerAccount: nil)
        let settings = TestServer.settings(rateLimits: limits, trustedProxies: .hops(2))
        try await TestServer.withApp(settings) { client in
            func login(_ forwarded: String) async throws -> TestResponse {
                try await client.postJSON(
                    "/api/v1/auth/login", #"{"email":"x@example.com","password":"wrong-password"}"#, headers: [.xForwardedFor: forwarded]
                )
            }
            for _ in 0..<2 { expectError(try await login("198.51.100.7, 203.0.113.250"), .unauthorized) }
            expectError(try await login("1.1.1.1, 198.51.100.7, 203.0.113.250"), .tooManyRequests)
            expectError(try await login("198.51.100.8, 203.0.113.250"), .unauthorized)
        }
    }

    // MARK: Password hashing under a flood

    /// Logins with distinct emails from 50 addresses, each under any per-IP limit, used
    /// to queue hashes without bound (a real login waited 25 s at cost 12; 7.6 s in this
    /// test). With the bounded queue the flood gets immediate 503s, the queue never holds
    /// more than its depth, every login that is let in (the flood's own 401s) is answered
    /// within the bound (a full queue drains in depth × hash time ÷ cores ≈ 0.3 s here,
    /// plus its own hash; 4 s allowed for a machine busy with the rest of the suite), a
    /// real user's login is answered
    /// (200, or 503 with `Retry-After`) within it too, and `/users/me` stays fast.
    @Test func aLoginFloodIsRefusedNotQueued() async throws {
        let database = TemporaryDatabase()
        defer { database.remove() }
        let settings = TestServer.settings(trustedProxies: .hops(1), bcryptCost: 10, passwordHashQueue: 8)
        let (service, databases) = try await makeService(database, settings: settings, hasher: BcryptPasswordHasher(cost: 10))
        let router = Router(context: GatehouseContext.self)
        router.add(middleware: GatehouseErrorMiddleware())
        AuthController<GatehouseContext>(service: service, configuration: settings).addRoutes(to: router.group("api/v1"))
        var app = Application(router: router, logger: Logger(label: "flood"))
        app.addServices(databases)

        let figures = try await app.test(.router) { client in
            let real = try await client.postJSON(
                "/api/v1/auth/register", #"{"name":"Real","email":"real@example.com","password":"secret123"}"#,
                headers: [.xForwardedFor: "192.0.2.1"]
            )
            let access = try real.decode(AuthResponse.self).accessToken
            let deadline = ContinuousClock.now + .seconds(3)
            let admittedWait = LongestWait()

            async let flood: [HTTPResponse.Status: Int] = withThrowingTaskGroup(of: [HTTPResponse.Status: Int].self) { group in
                for worker in 0..<200 {
                    group.addTask {
                        var statuses: [HTTPResponse.Status: Int] = [:]
                        var attempt = 0
                        while ContinuousClock.now < deadline {
                            attempt += 1
                            let started = ContinuousClock.now
                            let response = try await client.postJSON(
                                "/api/v1/auth/login", #"{"email":"flood-\#(worker)-\#(attempt)@example.com","password":"guess-guess"}"#,
                                headers: [.xForwardedFor: "10.20.0.\(worker % 50)"]
                            )
                            statuses[response.status, default: 0] += 1
                            if response.status == .unauthorized {
                                // Admitted: the time it waited in the queue and hashed.
                                admittedWait.note(ContinuousClock.now - started)
                            }
                            if response.status == .serviceUnavailable {
                                #expect(response.headers[.retryAfter].flatMap(Int.init).map { $0 >= 1 } == true)
                                #expect(response.error?.message == "Service busy")
                                // Backing off keeps this in-process attacker from taking the CPU the
                                // server needs (a real one runs elsewhere).
                                try await Task.sleep(for: .milliseconds(200))
                            }
                        }
                        return statuses
                    }
                }
                return try await group.reduce(into: [:]) { total, part in total.merge(part, uniquingKeysWith: +) }
            }

            async let probe: [Duration] = {
                var latencies: [Duration] = []
                while ContinuousClock.now < deadline {
                    let started = ContinuousClock.now
                    let response = try await client.get("/api/v1/users/me", bearer: access)
                    latencies.append(ContinuousClock.now - started)
                    #expect(response.status == .ok)
                    try await Task.sleep(for: .milliseconds(20))
                }
                return latencies
            }()

            try await Task.sleep(for: .milliseconds(700))
            let started = ContinuousClock.now
            let login = try await client.postJSON(
                "/api/v1/auth/login", #"{"email":"real@example.com","password":"secret123"}"#, headers: [.xForwardedFor: "192.0.2.1"]
            )
            let realWait = ContinuousClock.now - started
            #expect(login.status == .ok || login.status == .serviceUnavailable, "\(login.text)")
            if login.status == .serviceUnavailable { #expect(login.headers[.retryAfter] != nil) }

            let statuses = try await flood
            let latencies = try await probe.sorted()
            let p99 = latencies[min(latencies.count - 1, latencies.count * 99 / 100)]
            return (statuses, realWait, login.status, p99, latencies.count, admittedWait.longest)
        }
        let (statuses, realWait, realStatus, p99, probes, admitted) = figures
        print("flood: statuses \(statuses), real login \(realStatus) after \(realWait), longest admitted login \(admitted), /users/me p99 \(p99) over \(probes), queue high water \(service.hashQueue.highWater)")
        #expect(statuses[.serviceUnavailable, default: 0] > 0)
        #expect(Set(statuses.keys).isSubset(of: [.unauthorized, .serviceUnavailable]))
        #expect(service.hashQueue.highWater <= 8)
        // Bounds with room for the rest of the suite running beside this test. Alone: the
        // real login answered in 0.3 ms, admitted logins within 0.43 s, p99 30 ms; beside
        // the suite up to 0.5 s, 1.75 s and 0.5 s, and since the suite gained tests that
        // run servers and hash at cost 12 in other processes (2026-11-30), up to 4.7 s and
        // 1.02 s. Without the bound an admitted login waited 7.6 s alone.
        #expect(realWait < .seconds(4))
        // The guarantee that matters: a login that is let in waits for at most the queue.
        #expect(admitted < .seconds(6))
        #expect(p99 < .seconds(1.5))
    }

    /// A 503 `Service busy` costs nothing: the slot is taken before the attempt is
    /// counted, so retrying through a flood cannot lock a real user out.
    @Test func aBusyAnswerCostsNoLoginAttempt() async throws {
        let database = TemporaryDatabase()
        defer { database.remove() }
        let logger = Logger(label: "test")
        let limits = RateLimits(login: RateLimit(2, per: 60), register: nil, refresh: nil, loginFailuresPerAccount: RateLimit(1, per: 900))
        let settings = TestServer.settings(rateLimits: limits, passwordHashQueue: 1)
        let hasher = GatedHasher(BcryptPasswordHasher(cost: 4))
        let (service, databases) = try await makeService(database, settings: settings, hasher: hasher)
        let registration = try Registration.validate(name: "Busy", email: "busy@example.com", password: "secret123")
        _ = try await service.createUser(registration, role: .user, logger: logger)
        let client = ClientInfo(ip: "192.0.2.1")

        // Another client's login holds the only slot.
        async let holder: Void = {
            _ = try? await service.login(email: "other@example.com", password: "hold", client: ClientInfo(ip: "198.51.100.1"), logger: logger)
        }()
        try await hasher.waitUntilHeld()
        for _ in 0..<5 {
            await #expect(throws: AppError.serviceBusy(retryAfter: 1)) {
                try await service.login(email: "busy@example.com", password: "secret123", client: client, logger: logger)
            }
        }
        hasher.release()
        await holder
        // One attempt per account and two per address were never used up.
        _ = try await service.login(email: "busy@example.com", password: "secret123", client: client, logger: logger)
        await databases.shutdownAsync()
    }

    // MARK: A BCRYPT_COST change

    /// Accounts hashed at cost 6, server restarted at cost 10: an unknown email used to
    /// cost the new cost and a real account's wrong password the old one (0.09 s against
    /// 0.36 s from 10 to 12), which told them apart. Now an unknown email costs what the
    /// most common stored hash costs, and a successful login moves its hash to the new cost.
    @Test func afterACostChangeTimingRevealsNoAccountAndHashesMove() async throws {
        let database = TemporaryDatabase()
        defer { database.remove() }
        let logger = Logger(label: "test")
        let (before, oldDatabases) = try await makeService(
            database, settings: TestServer.settings(bcryptCost: 6), hasher: BcryptPasswordHasher(cost: 6)
        )
        for index in 0..<5 {
            let registration = try Registration.validate(name: "User \(index)", email: "user\(index)@example.com", password: "secret123")
            _ = try await before.register(registration, client: ClientInfo(), logger: logger)
        }
        await oldDatabases.shutdownAsync()

        let (service, databases) = try await makeService(
            database, settings: TestServer.settings(bcryptCost: 10), hasher: BcryptPasswordHasher(cost: 10)
        )
        let users = FluentUserRepository(provider: FluentDatabaseProvider(databases: databases))
        func seconds(_ email: String) async throws -> Double {
            let started = ContinuousClock.now
            await #expect(throws: AppError.invalidCredentials) {
                try await service.login(email: email, password: "wrong-password", client: ClientInfo(), logger: logger)
            }
            let elapsed = ContinuousClock.now - started
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        }
        var real: [Double] = []
        var unknown: [Double] = []
        for index in 0..<9 {
            real.append(try await seconds("user1@example.com"))
            unknown.append(try await seconds("nobody\(index)@example.com"))
        }
        let medianReal = real.sorted()[4]
        let medianUnknown = unknown.sorted()[4]
        print("cost change: median wrong-password login real \(medianReal) s, unknown \(medianUnknown) s")
        // Cost 10 is 16 times cost 6: the old answer differed by an order of magnitude.
        #expect(medianUnknown < medianReal * 3, "real \(medianReal) s, unknown \(medianUnknown) s")
        #expect(medianReal < medianUnknown * 3, "real \(medianReal) s, unknown \(medianUnknown) s")
        // Wrong passwords rehash nothing.
        #expect(try await users.find(email: "user1@example.com", logger: logger)?.passwordHash.hasPrefix("$2b$06$") == true)

        // A successful login stores a cost-10 hash, which then works.
        _ = try await service.login(email: "user0@example.com", password: "secret123", client: ClientInfo(), logger: logger)
        #expect(try await users.find(email: "user0@example.com", logger: logger)?.passwordHash.hasPrefix("$2b$10$") == true)
        _ = try await service.login(email: "user0@example.com", password: "secret123", client: ClientInfo(), logger: logger)
        #expect(try await users.find(email: "user2@example.com", logger: logger)?.passwordHash.hasPrefix("$2b$06$") == true)
        await databases.shutdownAsync()
    }

    /// The rehash is conditional: a hash changed after the login read it stays changed.
    @Test func aRehashNeverOverwritesAnotherChange() async throws {
        let database = TemporaryDatabase()
        defer { database.remove() }
        let logger = Logger(label: "test")
        let (service, databases) = try await makeService(database)
        let registration = try Registration.validate(name: "Race", email: "race@example.com", password: "secret123")
        let user = try await service.register(registration, client: ClientInfo(), logger: logger).user
        let users = FluentUserRepository(provider: FluentDatabaseProvider(databases: databases))
        #expect(try await users.replacePasswordHash(id: user.id, from: "stale", to: "new", at: Date(), logger: logger) == false)
        #expect(try await users.find(id: user.id, logger: logger)?.passwordHash == user.passwordHash)
        #expect(try await users.replacePasswordHash(id: user.id, from: user.passwordHash, to: "new", at: Date(), logger: logger))
        #expect(try await users.passwordHashPrefixCounts(logger: logger) == ["new": 1])
        await databases.shutdownAsync()
    }
}


/// A bcrypt hasher whose verification of the password `hold` waits until released: lets
/// a test hold a hashing slot without depending on timing.
final class GatedHasher: PasswordHasher {
    let base: BcryptPasswordHasher
    private let state = Mutex<(held: Bool, waiter: CheckedContinuation<Void, Never>?, released: Bool)>((false, nil, false))

    init(_ base: BcryptPasswordHasher) { self.base = base }

    var dummyHash: String { base.dummyHash }
    func dummyHash(like hash: String) -> String { base.dummyHash(like: hash) }
    func hash(_ password: String) async throws -> String { try await base.hash(password) }

    func verify(_ password: String, against hash: String) async throws -> Bool {
        if password == "hold" {
            await withCheckedContinuation { continuation in
                let resume = state.withLock { state in
                    state.held = true
                    if state.released { return true }
                    state.waiter = continuation
                    return false
                }
                if resume { continuation.resume() }
            }
        }
        return try await base.verify(password, against: hash)
    }

    func waitUntilHeld() async throws {
        for _ in 0..<5_000 where !state.withLock({ $0.held }) { try await Task.sleep(for: .milliseconds(1)) }
    }

    func release() {
        let waiter = state.withLock { state in
            state.released = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }
}

/// The longest of the durations noted, from any task.
final class LongestWait: Sendable {
    private let value = Mutex(Duration.zero)

    func note(_ duration: Duration) { value.withLock { $0 = max($0, duration) } }
    var longest: Duration { value.withLock { $0 } }
}
