import FluentKit
import Foundation
import HTTPTypes
@testable import Gatehouse
@testable import GatehouseFluent
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import SQLKit
import Testing

@testable import GatehouseServer

/// Every column of every audit row, as text, read on a connection of its own.
func auditRows(_ database: TemporaryDatabase) async throws -> [[String]] {
    let databases = try DatabaseSetup.open(database.location, poolSize: 1)
    do {
        guard let sql = databases.database(logger: Logger(label: "test"), on: databases.eventLoopGroup.any()) as? any SQLDatabase else {
            throw CancellationError()
        }
        let columns = ["id", "at", "event", "actor_id", "user_id", "session_id", "ip", "user_agent", "email"]
        let select = columns.map { "CAST(\($0) AS TEXT) AS \($0)" }.joined(separator: ", ")
        let text = "SELECT \(select) FROM gatehouse_audit_events"
        let rows = try await sql.raw(SQLQueryString(text)).all()
        let values = try rows.map { row in try columns.map { try row.decode(column: $0, as: String?.self) ?? "" } }
        await databases.shutdownAsync()
        return values
    } catch {
        await databases.shutdownAsync()
        throw error
    }
}

/// SPEC.md §3.5: the audit log.
@Suite struct AuditTests {
    static func events(_ client: any TestClientProtocol, admin: String, query: String = "limit=100") async throws -> [[String: Any]] {
        let response = try await client.get("/api/v1/admin/audit?\(query)", bearer: admin)
        try #require(response.status == .ok, "\(response.text)")
        return try #require(try jsonObject(response)["events"] as? [[String: Any]])
    }

    @Test func everyKindOfEventIsRecordedNewestFirst() async throws {
        let clock = TestClock()
        let limits = RateLimits(login: nil, register: nil, refresh: nil, loginFailuresPerAccount: RateLimit(2, per: 900))
        let database = TemporaryDatabase()
        defer { database.remove() }
        try await makeAdmins(database)
        try await TestServer.withApp(TestServer.settings(rateLimits: limits, trustProxy: true), database: database, clock: clock) { client in
            let (ann, annCookie) = try await client.registered(email: "ann@example.com")
            let annID = try #require(try payload(of: ann.accessToken)["sub"] as? String)
            clock.advance(1)
            let phone = try await client.loginFrom("Phone/1", ip: "203.0.113.9", email: "ann@example.com")
            clock.advance(1)
            // Two failures (as typed: spaces and capitals), then the account is throttled.
            for _ in 0..<2 {
                expectError(try await client.login(email: " Ann@Example.COM ", password: "wrong-guess"), .unauthorized)
                clock.advance(1)
            }
            expectError(try await client.login(email: "ann@example.com", password: "wrong-guess"), .tooManyRequests)
            expectError(try await client.login(email: "ann@example.com", password: "wrong-guess"), .tooManyRequests)
            // Past the account's window (and the phone's access token's lifetime).
            clock.advance(901)
            let phoneAgain = try await client.refresh(cookie: phone.cookie)
            let phoneAccess = try phoneAgain.decode(AccessTokenResponse.self).accessToken
            // A spent refresh token presented after the grace window: reuse.
            let rotated = try #require(try await client.refresh(cookie: annCookie).refreshCookie)
            clock.advance(60)
            expectError(try await client.refresh(cookie: annCookie), .unauthorized)
            _ = rotated
            clock.advance(1)
            #expect(try await client.deleteSession(try sessionID(of: phone.access), bearer: phoneAccess).status == .noContent)
            clock.advance(1)
            let fresh = try await client.loginFrom("Laptop/2", ip: "203.0.113.10", email: "ann@example.com")
            clock.advance(1)
            #expect(try await client.changePassword(PasswordChangeTests.change, bearer: fresh.access).status == .ok)
            clock.advance(1)
            let again = try await client.accessToken(email: "ann@example.com", password: "brand-new-pass")
            clock.advance(1)
            #expect(try await client.logout(bearer: again, scope: "local").status == .noContent)
            clock.advance(1)
            let admin = try await client.accessToken(email: "root@example.com")
            let adminID = try #require(try payload(of: admin)["sub"] as? String)
            clock.advance(1)
            #expect(try await client.send(.patch, "/api/v1/admin/users/\(annID)", bearer: admin, json: #"{"role":"admin"}"#).status == .ok)
            clock.advance(1)
            #expect(try await client.send(.post, "/api/v1/admin/users/\(annID)/logout", bearer: admin).status == .noContent)
            clock.advance(1)
            #expect(try await client.send(.delete, "/api/v1/admin/users/\(annID)", bearer: admin).status == .noContent)

            let events = try await Self.events(client, admin: admin)
            let kinds = events.compactMap { $0["event"] as? String }
            #expect(kinds == [
                "user.deleted", "user.logged_out_by_admin", "user.role_changed", "login.succeeded", "logout", "login.succeeded",
                "password.changed", "login.succeeded", "session.revoked", "refresh.reuse_detected", "login.throttled", "login.failed",
                "login.failed", "login.succeeded", "user.registered",
            ])
            for event in events {
                #expect(Set(event.keys) == ["id", "at", "event", "actorId", "userId", "sessionId", "ip", "userAgent", "email"])
            }
            let at = events.compactMap { $0["at"] as? String }
            #expect(at == at.sorted(by: >))
            let byKind = Dictionary(events.map { ($0["event"] as! String, $0) }, uniquingKeysWith: { first, _ in first })
            #expect(byKind["login.failed"]?["email"] as? String == "ann@example.com")
            #expect(byKind["login.failed"]?["userId"] as? String == annID)
            #expect(byKind["login.throttled"]?["email"] as? String == "ann@example.com")
            #expect(byKind["login.succeeded"]?["email"] is NSNull)
            #expect(byKind["user.role_changed"]?["actorId"] as? String == adminID)
            #expect(byKind["user.role_changed"]?["userId"] as? String == annID)
            #expect(byKind["user.deleted"]?["userId"] as? String == annID)
            #expect(byKind["session.revoked"]?["sessionId"] as? String == (try sessionID(of: phone.access)))
            #expect(byKind["password.changed"]?["ip"] as? String == "203.0.113.10" || byKind["password.changed"]?["ip"] is NSNull)
            let laptopLogin = events.first { $0["event"] as? String == "login.succeeded" && $0["userAgent"] as? String == "Laptop/2" }
            #expect(laptopLogin?["ip"] as? String == "203.0.113.10")
            #expect(laptopLogin?["sessionId"] as? String == (try sessionID(of: fresh.access)))
        }
    }

    @Test func filtersByUserAndPagesThroughEveryEventOnce() async throws {
        try await withAdminApp { client, admin in
            let (ann, _) = try await client.registered(email: "ann@example.com")
            let annID = try #require(try payload(of: ann.accessToken)["sub"] as? String)
            for _ in 0..<4 { _ = try await client.loginFrom("X", ip: "", email: "ann@example.com") }
            _ = try await client.registered(email: "bob@example.com")
            let annEvents = try await Self.events(client, admin: admin, query: "user=\(annID)")
            #expect(annEvents.count == 5)
            #expect(annEvents.allSatisfy { $0["userId"] as? String == annID })

            var seen: [String] = []
            var cursor: String?
            repeat {
                let response = try await client.get("/api/v1/admin/audit?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""), bearer: admin)
                let object = try jsonObject(response)
                seen += try #require(object["events"] as? [[String: Any]]).compactMap { $0["id"] as? String }
                cursor = object["nextCursor"] as? String
            } while cursor != nil
            // The admin's login, Ann's registration and four logins, Bob's registration.
            #expect(seen.count == 7)
            #expect(Set(seen).count == 7)

            for bad in ["user=nope", "user=", "limit=0"] {
                expectError(try await client.get("/api/v1/admin/audit?\(bad)", bearer: admin), .badRequest)
            }
        }
    }

    /// No password, token, hash or cookie value reaches the table, whatever the flow.
    @Test func noSecretEverReachesTheAuditLog() async throws {
        let database = TemporaryDatabase()
        defer { database.remove() }
        try await makeAdmins(database)
        let secrets = try await TestServer.withApp(TestServer.settings(trustProxy: true), database: database) { client in
            var secrets: [String] = ["secret123", "brand-new-pass", "wrong-guess-1"]
            let admin = try await client.accessToken(email: "root@example.com")
            secrets.append(admin)
            let (ann, cookie) = try await client.registered(email: "ann@example.com")
            secrets += [ann.accessToken, cookie]
            let login = try await client.loginFrom("UA", ip: "198.51.100.1", email: "ann@example.com")
            secrets += [login.access, login.cookie]
            _ = try await client.login(email: "ann@example.com", password: "wrong-guess-1")
            let refreshed = try await client.refresh(cookie: login.cookie)
            secrets += [try #require(refreshed.refreshCookie), try refreshed.decode(AccessTokenResponse.self).accessToken]
            let changed = try await client.changePassword(PasswordChangeTests.change, bearer: login.access)
            secrets += [try #require(changed.refreshCookie), try changed.decode(AccessTokenResponse.self).accessToken]
            #expect(try await client.logout(bearer: try changed.decode(AccessTokenResponse.self).accessToken).status == .noContent)
            return secrets
        }
        let rows = try await auditRows(database)
        #expect(rows.count >= 6)
        let text = rows.flatMap { $0 }.joined(separator: "\n")
        for secret in secrets {
            #expect(!text.contains(secret), "a secret reached the audit log")
            // Not even a token's signature on its own.
            if let signature = secret.split(separator: ".").last, secret.contains(".") {
                #expect(!text.contains(signature))
            }
        }
        #expect(!text.contains("$2b$"), "a bcrypt hash reached the audit log")
        #expect(!text.contains("refreshToken"))
    }

    /// An event is written with its change or not at all.
    @Test func aChangeThatRollsBackRecordsNothing() async throws {
        try await withAdminApp { client, admin in
            let (ann, _) = try await client.registered(email: "ann@example.com")
            let phone = try await client.loginFrom("Phone", ip: "", email: "ann@example.com")
            #expect(try await client.deleteSession(try sessionID(of: ann.accessToken), bearer: phone.access).status == .noContent)
            expectError(try await client.changePassword(PasswordChangeTests.change, bearer: ann.accessToken), .unauthorized)
            expectError(try await client.register(email: "ANN@example.com"), .conflict)
            expectError(try await client.deleteSession(UUID().uuidString, bearer: phone.access), .notFound)
            let kinds = try await Self.events(client, admin: admin).compactMap { $0["event"] as? String }
            #expect(!kinds.contains("password.changed"))
            #expect(kinds.filter { $0 == "user.registered" }.count == 1)
            #expect(kinds.filter { $0 == "session.revoked" }.count == 1)
        }
    }

    /// A logout that changes nothing (no other session, or the session already revoked)
    /// records nothing, so a replayed token cannot fill the table; after its own logout
    /// the token is refused anyway (SPEC.md §3.6).
    @Test func repeatedLogoutsRecordOneEvent() async throws {
        try await withAdminApp { client, admin in
            let (ann, _) = try await client.registered(email: "ann@example.com")
            for _ in 0..<3 { #expect(try await client.logout(bearer: ann.accessToken, scope: "others").status == .noContent) }
            #expect(try await client.logout(bearer: ann.accessToken, scope: "local").status == .noContent)
            for _ in 0..<4 { expectError(try await client.logout(bearer: ann.accessToken, scope: "local"), .unauthorized, "Access token revoked") }
            let kinds = try await Self.events(client, admin: admin).compactMap { $0["event"] as? String }
            #expect(kinds.filter { $0 == "logout" }.count == 1)
        }
    }

    @Test func throttleEventsAreCappedPerKeyAndInAll() {
        let gate = ThrottleEventGate()
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(gate.shouldRecord("ip:1", at: start))
        #expect(!gate.shouldRecord("ip:1", at: start.addingTimeInterval(59)))
        var recorded = 1
        for index in 0..<1_000 where gate.shouldRecord("account:\(index)", at: start.addingTimeInterval(1)) { recorded += 1 }
        #expect(recorded == ThrottleEventGate.perMinute)
        // A new minute opens a new allowance.
        #expect(gate.shouldRecord("account:fresh", at: start.addingTimeInterval(61)))
    }

    @Test func eventsOlderThanTheRetentionArePruned() async throws {
        let database = TemporaryDatabase()
        defer { database.remove() }
        let logger = Logger(label: "test")
        let databases = try await DatabaseSetup.openMigrated(database.location, poolSize: 2, logger: logger)
        let provider = FluentDatabaseProvider(databases: databases)
        let audit = FluentAuditRepository(provider: provider)
        let now = Date(timeIntervalSince1970: 2_000_000_000)
        for day in [100, 91, 89, 1] {
            try await audit.record(AuditEvent(at: now.addingTimeInterval(-Double(day) * 86_400), kind: .loginFailed), logger: logger)
        }
        let pruner = SessionPruner(
            sessions: FluentSessionRepository(provider: provider), audit: audit, auditRetention: 90 * 86_400, logger: logger,
            now: { now }
        )
        await pruner.pruneOnce()
        let left = try await audit.page(user: nil, after: nil, limit: 10, logger: logger)
        #expect(left.map { Int(now.timeIntervalSince($0.at) / 86_400) } == [1, 89])
        await databases.shutdownAsync()
    }
}
