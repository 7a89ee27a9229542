import FluentKit
import Foundation
import GatehouseFluent
import HTTPTypes
import Gatehouse
import Hummingbird
import HummingbirdTesting
import Logging
import SQLKit
import NIOCore
import Synchronization
import Testing

@testable import GatehouseServer

/// A clock tests move by hand, so expiry and grace windows are tested without sleeping.
final class TestClock: Sendable {
    private let current: Mutex<Date>
    private let tick: TimeInterval

    /// A clock at `start`; with `tick`, every reading moves it on by that much, so
    /// concurrent requests see different seconds.
    init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000), tick: TimeInterval = 0) {
        self.current = Mutex(start)
        self.tick = tick
    }

    var now: Date {
        current.withLock { date in
            defer { date = date.addingTimeInterval(tick) }
            return date
        }
    }

    func advance(_ seconds: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }
}

/// A fresh database per test. SQLite by default (a file, removed afterwards); with
/// `GATEHOUSE_TEST_DATABASE_URL` set to a PostgreSQL database, a fresh schema in it
/// (left for the throwaway test cluster to take away), so the whole suite runs on
/// either backend.
struct TemporaryDatabase {
    /// The PostgreSQL database the suite runs against, if any.
    static let postgresURL: String? = ProcessInfo.processInfo.environment["GATEHOUSE_TEST_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
    /// Whether this run is against PostgreSQL.
    static var isPostgres: Bool { postgresURL != nil }

    /// `DATABASE_URL` for this database.
    let url: String
    let location: DatabaseLocation
    /// The SQLite file, when the backend is SQLite.
    let path: String?

    init() {
        if let base = Self.postgresURL {
            let schema = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            url = base + (base.contains("?") ? "&" : "?") + "schema=\(schema)"
            path = nil
        } else {
            let file = FileManager.default.temporaryDirectory
                .appendingPathComponent("gatehouse-test-\(UUID().uuidString).sqlite").path
            url = "sqlite://" + file
            path = file
        }
        location = try! DatabaseLocation.parse(url)
    }

    func remove() {
        guard let path else { return }
        for suffix in ["", "-wal", "-shm"] {
            try? FileManager.default.removeItem(atPath: path + suffix)
        }
    }
}

/// At most `limit` holders at once: on PostgreSQL every test app holds connections, and
/// hundreds of parameterised cases start together, more than the test server accepts.
actor Slots {
    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(_ limit: Int) {
        free = limit
    }

    func acquire() async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty {
            free += 1
        } else {
            waiting.removeFirst().resume()
        }
    }

    /// Runs `body` holding a slot.
    func with<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        await acquire()
        do {
            let value = try await body()
            release()
            return value
        } catch {
            release()
            throw error
        }
    }

    /// Test apps running at once: unlimited on SQLite, 24 on PostgreSQL.
    static let apps = Slots(TemporaryDatabase.isPostgres ? 24 : Int.max)
}

enum TestServer {
    static func settings(
        environment: AppEnvironment = .development,
        audience: String? = nil,
        reuseInterval: Int = 10,
        accessTTL: Int = 900,
        refreshTTL: Int = 7 * 86_400,
        rateLimits: RateLimits = .off,
        trustProxy: Bool = false,
        trustedProxies: TrustedProxies? = nil,
        bcryptCost: Int = 4,
        passwordHashQueue: Int? = nil,
        signingKey: JWTPrivateKey? = nil,
        previousPublicKeys: [JWTPublicKey] = []
    ) -> GatehouseConfiguration {
        try! GatehouseConfiguration(
            environment: environment,
            accessSecret: SecretGenerator.hex(bytes: 32),
            refreshSecret: SecretGenerator.hex(bytes: 32),
            accessTokenTTL: accessTTL,
            refreshTokenTTL: refreshTTL,
            audience: audience,
            // Production refuses costs below 10 (SPEC.md §1), so a production test pays for it.
            bcryptCost: environment == .production ? max(bcryptCost, 10) : bcryptCost,
            refreshReuseInterval: reuseInterval,
            rateLimits: rateLimits,
            trustedProxies: trustedProxies ?? (trustProxy ? .hops(1) : .none),
            passwordHashQueue: passwordHashQueue,
            algorithm: signingKey?.algorithm ?? .hs256,
            privateKey: signingKey,
            previousPublicKeys: previousPublicKeys
        )
    }

    /// Builds the application exactly as `gatehouse serve` does, on a fresh SQLite file,
    /// and runs `body` against it through the router test framework (or a real socket
    /// with `.live`). Rate limits are off unless `settings` turns them on; `clock: nil`
    /// runs on the real clock.
    static func withApp<T: Sendable>(
        _ settings: GatehouseConfiguration = settings(),
        database: TemporaryDatabase? = nil,
        clock: TestClock? = TestClock(),
        corsOrigins: [String] = [],
        logger: Logger? = nil,
        logLevel: Logger.Level? = nil,
        rateLimitStore: RateLimitStore = .memory,
        revocationPollInterval: Duration = .milliseconds(ServerConfiguration.defaultRevocationPollMilliseconds),
        setup: TestingSetup = .router,
        _ body: @Sendable (any TestClientProtocol) async throws -> T
    ) async throws -> T {
        try await Slots.apps.with {
            try await run(
                // A test that captures the log sees `info` (the request lines among it); the
                // others log warnings only, to standard error.
                settings, database: database, clock: clock, corsOrigins: corsOrigins, logger: logger,
                logLevel: logLevel ?? (logger == nil ? .warning : .info),
                rateLimitStore: rateLimitStore, revocationPollInterval: revocationPollInterval, setup: setup, body
            )
        }
    }

    private static func run<T: Sendable>(
        _ settings: GatehouseConfiguration, database: TemporaryDatabase?, clock: TestClock?, corsOrigins: [String],
        logger: Logger?, logLevel: Logger.Level, rateLimitStore: RateLimitStore, revocationPollInterval: Duration, setup: TestingSetup,
        _ body: @Sendable (any TestClientProtocol) async throws -> T
    ) async throws -> T {
        let temporary = database ?? TemporaryDatabase()
        defer { if database == nil { temporary.remove() } }
        let configuration = ServerConfiguration(
            gatehouse: settings, port: 0, database: temporary.location, databasePoolSize: 2, logLevel: logLevel, corsOrigins: corsOrigins,
            rateLimitStore: rateLimitStore, revocationPollInterval: revocationPollInterval
        )
        let now: @Sendable () -> Date
        if let clock {
            now = { clock.now }
        } else {
            now = { Date() }
        }
        let app = try await buildApplication(configuration, logger: logger, now: now)
        return try await app.test(setup) { client in try await body(client) }
    }
}

/// An `AuthService` on a migrated SQLite file, for tests that work below HTTP or mount
/// the routes themselves. The caller shuts `databases` down.
func makeService(
    _ database: TemporaryDatabase, settings: GatehouseConfiguration = TestServer.settings(),
    hasher: (any PasswordHasher)? = BcryptPasswordHasher(cost: 4), logger: Logger = Logger(label: "test"),
    now: @escaping @Sendable () -> Date = { Date() }
) async throws -> (service: AuthService, databases: Databases) {
    let databases = try await DatabaseSetup.openMigrated(database.location, poolSize: 2, logger: logger)
    return (await AuthService.fluent(configuration: settings, databases: databases, hasher: hasher, now: now), databases)
}

/// A response with helpers to read what the tests check.
extension TestResponse {
    var text: String { String(buffer: body) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(body.readableBytesView))
    }

    /// The top-level keys of a JSON object body.
    var jsonKeys: Set<String> {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] else { return [] }
        return Set(object.keys)
    }

    var error: ErrorResponse? { try? decode(ErrorResponse.self) }

    /// The `refreshToken` value of `Set-Cookie`, if any.
    var refreshCookie: String? {
        guard let header = headers[.setCookie], header.hasPrefix("refreshToken=") else { return nil }
        let value = header.dropFirst("refreshToken=".count).prefix { $0 != ";" }
        // A clearing cookie (`refreshToken=; Max-Age=0`) carries no token.
        return value.isEmpty ? nil : String(value)
    }
}

extension TestClientProtocol {
    func postJSON(_ uri: String, _ json: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        var fields = headers
        if fields[.contentType] == nil { fields[.contentType] = "application/json" }
        return try await executeRequest(uri: uri, method: .post, headers: fields, body: ByteBuffer(string: json))
    }

    func register(name: String = "Alice", email: String, password: String = "secret123") async throws -> TestResponse {
        try await postJSON("/api/v1/auth/register", #"{"name":\#(quoted(name)),"email":\#(quoted(email)),"password":\#(quoted(password))}"#)
    }

    func login(email: String, password: String = "secret123") async throws -> TestResponse {
        try await postJSON("/api/v1/auth/login", #"{"email":\#(quoted(email)),"password":\#(quoted(password))}"#)
    }

    func refresh(cookie: String?) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let cookie { headers[.cookie] = "refreshToken=\(cookie)" }
        return try await executeRequest(uri: "/api/v1/auth/refresh", method: .post, headers: headers, body: nil)
    }

    func get(_ uri: String, bearer: String? = nil, headers: HTTPFields = [:]) async throws -> TestResponse {
        var fields = headers
        if let bearer { fields[.authorization] = "Bearer \(bearer)" }
        return try await executeRequest(uri: uri, method: .get, headers: fields, body: nil)
    }

    func logout(bearer: String?, scope: String? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let bearer { headers[.authorization] = "Bearer \(bearer)" }
        let uri = "/api/v1/auth/logout" + (scope.map { "?scope=\($0)" } ?? "")
        return try await executeRequest(uri: uri, method: .post, headers: headers, body: nil)
    }

    /// Registers and returns the body and refresh cookie, failing the test otherwise.
    func registered(email: String, password: String = "secret123") async throws -> (auth: AuthResponse, cookie: String) {
        let response = try await register(email: email, password: password)
        try #require(response.status == .created, "register answered \(response.status): \(response.text)")
        return (try response.decode(AuthResponse.self), try #require(response.refreshCookie))
    }
}
