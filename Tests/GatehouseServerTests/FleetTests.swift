import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Gatehouse
import Testing

@testable import GatehouseServer

/// Several `gatehouse serve` processes on one database (SQLite file or PostgreSQL,
/// whichever the suite runs on), and PostgreSQL outages.
@Suite struct FleetTests {
    static func environment(_ database: TemporaryDatabase, access: String, refresh: String) -> [String: String] {
        [
            "DATABASE_URL": database.url, "JWT_ACCESS_SECRET": access, "JWT_REFRESH_SECRET": refresh, "BCRYPT_COST": "4",
            "RATE_LIMIT_LOGIN": "off", "RATE_LIMIT_REGISTER": "off", "RATE_LIMIT_REFRESH": "off",
            "LOGIN_FAILURES_PER_ACCOUNT": "off", "DATABASE_POOL_SIZE": "2",
        ]
    }

    static let alice = #"{"name":"Alice","email":"alice@example.com","password":"secret123"}"#

    @Test func twoInstancesOnOneDatabaseShareUsersAndSessions() async throws {
        try await blocking {
            let database = TemporaryDatabase()
            defer { database.remove() }
            let environment = Self.environment(database, access: SecretGenerator.hex(bytes: 32), refresh: SecretGenerator.hex(bytes: 32))
            let a = try ServerProcess(environment: environment)
            defer { a.stop() }
            let b = try ServerProcess(environment: environment)
            defer { b.stop() }

            // Registered on A, logs in on B.
            let registered = try #require(exchange(port: a.port, "POST", "/api/v1/auth/register", json: Self.alice))
            #expect(registered.status == 201, "\(registered.body)")
            let access = try #require(registered.string("accessToken"))
            let cookieA = try #require(registered.refreshCookie)
            let login = try #require(exchange(port: b.port, "POST", "/api/v1/auth/login", json: #"{"email":"alice@example.com","password":"secret123"}"#))
            #expect(login.status == 200, "\(login.body)")

            // A token A issued verifies and rotates on B.
            #expect(exchange(port: b.port, "GET", "/api/v1/users/me", headers: ["Authorization": "Bearer \(access)"])?.status == 200)
            let rotated = try #require(exchange(port: b.port, "POST", "/api/v1/auth/refresh", headers: ["Cookie": "refreshToken=\(cookieA)"]))
            #expect(rotated.status == 200, "\(rotated.body)")
            let current = try #require(rotated.refreshCookie)
            #expect(current != cookieA)

            // Logout everywhere on B: A refuses the session's refresh at once.
            #expect(exchange(port: b.port, "POST", "/api/v1/auth/logout", headers: ["Authorization": "Bearer \(access)"])?.status == 204)
            let refused = try #require(exchange(port: a.port, "POST", "/api/v1/auth/refresh", headers: ["Cookie": "refreshToken=\(current)"]))
            #expect(refused.status == 401)
            #expect(refused.string("message") == "Session expired, please log in again")
        }
    }

    /// Set by `scripts/test-postgres.sh`: a cluster of its own that this test may stop.
    static let outageURL = ProcessInfo.processInfo.environment["GATEHOUSE_TEST_OUTAGE_URL"].flatMap { $0.isEmpty ? nil : $0 }
    static let outageControl = ProcessInfo.processInfo.environment["GATEHOUSE_TEST_OUTAGE_CONTROL"].flatMap { $0.isEmpty ? nil : $0 }

    /// Stops or starts the outage cluster. (posix_spawn and waitpid rather than
    /// Foundation's `Process`, whose `waitUntilExit` was seen never to return once the
    /// script had started a daemon.)
    static func control(_ action: String) throws {
        let script = try #require(outageControl)
        var pid: pid_t = 0
        let arguments: [UnsafeMutablePointer<CChar>?] = [strdup(script), strdup(action), nil]
        defer { arguments.forEach { free($0) } }
        try #require(posix_spawn(&pid, script, nil, nil, arguments, environ) == 0, "cannot run \(script)")
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        try #require(status == 0, "outage control \(action) failed (\(status))")
    }

    @Test(.enabled(if: outageURL != nil && outageControl != nil, "needs scripts/test-postgres.sh"))
    func aDatabaseOutageIs503UntilItRecoversByItself() throws {
        let schema = "outage_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let url = try #require(Self.outageURL) + "&schema=\(schema)"
        var environment = Self.environment(TemporaryDatabase(), access: SecretGenerator.hex(bytes: 32), refresh: SecretGenerator.hex(bytes: 32))
        environment["DATABASE_URL"] = url
        environment["DATABASE_TIMEOUT"] = "2s"
        let server = try ServerProcess(environment: environment)
        defer { server.stop() }
        let port = server.port

        let registered = try #require(exchange(port: port, "POST", "/api/v1/auth/register", json: Self.alice))
        #expect(registered.status == 201)
        let access = try #require(registered.string("accessToken"))
        let cookie = try #require(registered.refreshCookie)
        #expect(exchange(port: port, "GET", "/health/ready")?.status == 200)

        try Self.control("stop")
        var restarted = false
        defer { if !restarted { try? Self.control("start") } }

        // Every endpoint that needs the database answers 503 in the error shape, quickly.
        let requests: [(String, String, [String: String], String?)] = [
            ("POST", "/api/v1/auth/login", [:], #"{"email":"alice@example.com","password":"secret123"}"#),
            ("POST", "/api/v1/auth/register", [:], #"{"name":"Bob","email":"bob@example.com","password":"secret123"}"#),
            ("POST", "/api/v1/auth/refresh", ["Cookie": "refreshToken=\(cookie)"], nil),
            ("POST", "/api/v1/auth/logout", ["Authorization": "Bearer \(access)"], nil),
            ("GET", "/health/ready", [:], nil),
        ]
        for (method, path, headers, json) in requests {
            let started = Date()
            let answer = try #require(
                exchange(port: port, method, path, headers: headers, json: json),
                "no answer; server log:\n\((try? String(contentsOf: server.log, encoding: .utf8)) ?? "")"
            )
            #expect(answer.status == 503, "\(method) \(path): \(answer.status) \(answer.body)")
            #expect(answer.string("status") == "error")
            #expect(answer.string("message") == "Service unavailable")
            #expect(Date().timeIntervalSince(started) < 2 + 3, "\(method) \(path) took too long")
        }
        // What needs no database keeps working.
        #expect(exchange(port: port, "GET", "/api/v1/users/me", headers: ["Authorization": "Bearer \(access)"])?.status == 200)
        #expect(exchange(port: port, "GET", "/health")?.status == 200)

        try Self.control("start")
        restarted = true
        let deadline = Date().addingTimeInterval(30)
        while exchange(port: port, "GET", "/health/ready")?.status != 200, Date() < deadline {
            usleep(200_000)
        }
        #expect(exchange(port: port, "GET", "/health/ready")?.status == 200)
        let login = try #require(exchange(port: port, "POST", "/api/v1/auth/login", json: #"{"email":"alice@example.com","password":"secret123"}"#))
        #expect(login.status == 200, "\(login.body)")
        #expect(exchange(port: port, "POST", "/api/v1/auth/refresh", headers: ["Cookie": "refreshToken=\(cookie)"])?.status == 200)
    }
}
