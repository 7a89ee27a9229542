import FluentKit
import Foundation
import HTTPTypes
import Gatehouse
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

@testable import GatehouseServer

extension TestClientProtocol {
    func send(_ method: HTTPRequest.Method, _ uri: String, bearer: String?, json: String? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let bearer { headers[.authorization] = "Bearer \(bearer)" }
        if json != nil { headers[.contentType] = "application/json" }
        return try await executeRequest(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }

    /// Logs in and returns the access token, failing the test otherwise.
    func accessToken(email: String, password: String = "secret123") async throws -> String {
        let response = try await login(email: email, password: password)
        try #require(response.status == .ok, "login answered \(response.status): \(response.text)")
        return try response.decode(AuthResponse.self).accessToken
    }
}

/// Creates admins in `database` before the app starts (as `gatehouse create-admin` does).
func makeAdmins(_ database: TemporaryDatabase, _ emails: [String] = ["root@example.com"]) async throws {
    let (service, databases) = try await makeService(database)
    do {
        for email in emails {
            let registration = try Registration.validate(name: "Root", email: email, password: "secret123")
            _ = try await service.createUser(registration, role: .admin, logger: Logger(label: "test"))
        }
    } catch {
        await databases.shutdownAsync()
        throw error
    }
    await databases.shutdownAsync()
}

/// Runs `body` against an app whose database holds the admin `root@example.com`.
func withAdminApp<T: Sendable>(
    admins: [String] = ["root@example.com"], clock: TestClock? = TestClock(),
    _ body: @Sendable (any TestClientProtocol, String) async throws -> T
) async throws -> T {
    let database = TemporaryDatabase()
    defer { database.remove() }
    try await makeAdmins(database, admins)
    return try await TestServer.withApp(database: database, clock: clock) { client in
        try await body(client, try await client.accessToken(email: admins[0]))
    }
}

func jsonObject(_ response: TestResponse) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
}

/// SPEC.md §3.5: administration.
@Suite struct AdminAccessTests {
    static func routes(_ id: String) -> [(HTTPRequest.Method, String, String?)] {
        [
            (.get, "/api/v1/admin/users", nil), (.get, "/api/v1/admin/users/\(id)", nil),
            (.patch, "/api/v1/admin/users/\(id)", #"{"role":"admin"}"#), (.delete, "/api/v1/admin/users/\(id)", nil),
            (.post, "/api/v1/admin/users/\(id)/logout", nil), (.get, "/api/v1/admin/audit", nil),
        ]
    }

    @Test func everyAdminRouteRefusesAUserAndAnonymousClients() async throws {
        try await withAdminApp { client, _ in
            let (user, _) = try await client.registered(email: "mallory@example.com")
            let own = try #require(try payload(of: user.accessToken)["sub"] as? String)
            for (method, path, body) in Self.routes(own) {
                expectError(try await client.send(method, path, bearer: user.accessToken, json: body), .forbidden, "Forbidden")
                expectError(try await client.send(method, path, bearer: nil, json: body), .unauthorized, "Authentication required")
                expectError(try await client.send(method, path, bearer: "garbage", json: body), .unauthorized, "Invalid access token")
            }
            // The user is still a user, and still there.
            #expect(try await client.accessToken(email: "mallory@example.com").isEmpty == false)
            let me = try await client.get("/api/v1/users/me", bearer: try await client.accessToken(email: "mallory@example.com"))
            #expect(try jsonObject(me)["role"] as? String == "user")
        }
    }

    @Test func wrongMethodsAre405() async throws {
        try await withAdminApp { client, admin in
            let response = try await client.send(.put, "/api/v1/admin/users", bearer: admin)
            expectError(response, .methodNotAllowed)
        }
    }
}

@Suite struct AdminUserTests {
    @Test func listsUsersWithTheirLastSignInAndLiveSessions() async throws {
        let clock = TestClock()
        try await withAdminApp(clock: clock) { client, admin in
            clock.advance(10)
            let (ann, _) = try await client.registered(email: "ann@example.com")
            clock.advance(10)
            _ = try await client.loginFrom("B", ip: "", email: "ann@example.com")
            clock.advance(10)
            let (bob, _) = try await client.registered(email: "bob@example.com")
            #expect(try await client.logout(bearer: bob.accessToken).status == .noContent)

            let response = try await client.get("/api/v1/admin/users", bearer: admin)
            #expect(response.status == .ok)
            let object = try jsonObject(response)
            #expect(Set(object.keys) == ["users", "nextCursor"])
            #expect(object["nextCursor"] is NSNull)
            let users = try #require(object["users"] as? [[String: Any]])
            #expect(users.map { $0["email"] as? String } == ["root@example.com", "ann@example.com", "bob@example.com"])
            for user in users {
                #expect(Set(user.keys) == ["id", "name", "email", "role", "createdAt", "updatedAt", "lastLoginAt", "activeSessions"])
            }
            #expect(users.map { $0["activeSessions"] as? Int } == [1, 2, 0])
            #expect(users.map { $0["role"] as? String } == ["admin", "user", "user"])
            #expect(users[1]["id"] as? String == (try payload(of: ann.accessToken)["sub"] as? String))
            // Registration counts as a sign-in; Ann's last one is her second login.
            let annLast = try #require(users[1]["lastLoginAt"] as? String)
            let annCreated = try #require(users[1]["createdAt"] as? String)
            #expect(try Date(annLast, strategy: .iso8601).timeIntervalSince(Date(annCreated, strategy: .iso8601)) == 10)
            #expect(users[2]["lastLoginAt"] is String)
        }
    }

    @Test func pagesVisitEveryUserOnceAndEndWithANullCursor() async throws {
        try await withAdminApp { client, admin in
            for index in 0..<7 { _ = try await client.registered(email: "page\(index)@example.com") }
            var seen: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let uri = "/api/v1/admin/users?limit=3" + (cursor.map { "&cursor=\($0)" } ?? "")
                let object = try jsonObject(try await client.get(uri, bearer: admin))
                let users = try #require(object["users"] as? [[String: Any]])
                #expect(users.count <= 3)
                seen += users.compactMap { $0["email"] as? String }
                cursor = object["nextCursor"] as? String
                pages += 1
            } while cursor != nil && pages < 10
            #expect(seen.count == 8)
            #expect(Set(seen).count == 8)
            #expect(pages == 3)
        }
    }

    @Test func pagesHoldFiftyUsersByDefault() async throws {
        try await withAdminApp { client, admin in
            for index in 0..<55 { _ = try await client.registered(email: "many\(index)@example.com") }
            let first = try jsonObject(try await client.get("/api/v1/admin/users", bearer: admin))
            #expect((first["users"] as? [[String: Any]])?.count == 50)
            let cursor = try #require(first["nextCursor"] as? String)
            let second = try jsonObject(try await client.get("/api/v1/admin/users?cursor=\(cursor)", bearer: admin))
            #expect((second["users"] as? [[String: Any]])?.count == 6)
            #expect(second["nextCursor"] is NSNull)
            let hundred = try jsonObject(try await client.get("/api/v1/admin/users?limit=100", bearer: admin))
            #expect((hundred["users"] as? [[String: Any]])?.count == 56)
        }
    }

    /// Keyset pages on (createdAt, id): concurrent registrations join the end and never
    /// shift a page, so every user that existed before the walk is seen exactly once.
    @Test func pagingWhileFiftyRegistrationsRunVisitsEveryUserOnce() async throws {
        let clock = TestClock()
        try await withAdminApp(clock: clock) { client, admin in
            var before: Set<String> = ["root@example.com"]
            for index in 0..<30 {
                clock.advance(1)
                _ = try await client.registered(email: "early\(index)@example.com")
                before.insert("early\(index)@example.com")
            }
            let seen = try await withThrowingTaskGroup(of: [String].self) { group in
                group.addTask {
                    try await withThrowingTaskGroup(of: Void.self) { registrations in
                        for index in 0..<50 {
                            registrations.addTask {
                                let response = try await client.register(email: "late\(index)@example.com")
                                #expect(response.status == .created)
                            }
                        }
                        try await registrations.waitForAll()
                    }
                    return []
                }
                group.addTask {
                    var seen: [String] = []
                    var cursor: String?
                    repeat {
                        let uri = "/api/v1/admin/users?limit=4" + (cursor.map { "&cursor=\($0)" } ?? "")
                        let object = try jsonObject(try await client.get(uri, bearer: admin))
                        seen += try #require(object["users"] as? [[String: Any]]).compactMap { $0["email"] as? String }
                        cursor = object["nextCursor"] as? String
                    } while cursor != nil
                    return seen
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(seen.count == Set(seen).count, "a user was listed twice")
            #expect(before.isSubset(of: Set(seen)), "missing: \(before.subtracting(seen))")
        }
    }

    @Test(arguments: ["limit=0", "limit=101", "limit=abc", "limit=-1", "limit=", "limit=1000000000000"])
    func badLimitsAre400(query: String) async throws {
        try await withAdminApp { client, admin in
            for path in ["/api/v1/admin/users", "/api/v1/admin/audit"] {
                let response = try await client.get("\(path)?\(query)", bearer: admin)
                expectError(response, .badRequest)
                #expect(response.error?.errors?.map(\.field) == ["limit"])
            }
        }
    }

    @Test func cursorsNotIssuedByTheServerAre400() async throws {
        try await withAdminApp { client, admin in
            for index in 0..<3 { _ = try await client.registered(email: "c\(index)@example.com") }
            let first = try jsonObject(try await client.get("/api/v1/admin/users?limit=1", bearer: admin))
            let cursor = try #require(first["nextCursor"] as? String)
            #expect(try await client.get("/api/v1/admin/users?limit=1&cursor=\(cursor)", bearer: admin).status == .ok)
            var tampered = Array(cursor)
            tampered[5] = tampered[5] == "A" ? "B" : "A"
            for bad in ["garbage", String(tampered), String(cursor.dropLast()), "", String(repeating: "A", count: 500)] {
                let response = try await client.get("/api/v1/admin/users?cursor=\(bad)", bearer: admin)
                expectError(response, .badRequest, "Invalid cursor")
            }
            // A users cursor is not an audit cursor.
            expectError(try await client.get("/api/v1/admin/audit?cursor=\(cursor)", bearer: admin), .badRequest, "Invalid cursor")
        }
    }

    @Test func theEmailFilterIsAPrefixNotAPattern() async throws {
        try await withAdminApp { client, admin in
            for email in ["al_x@example.com", "alex@example.com", "alfred@example.com", "bob@example.com"] {
                _ = try await client.registered(email: email)
            }
            func emails(_ filter: String) async throws -> [String] {
                let object = try jsonObject(try await client.get("/api/v1/admin/users?email=\(filter)", bearer: admin))
                return try #require(object["users"] as? [[String: Any]]).compactMap { $0["email"] as? String }
            }
            #expect(try await emails("al_") == ["al_x@example.com"])
            #expect(Set(try await emails("al")) == ["al_x@example.com", "alex@example.com", "alfred@example.com"])
            #expect(try await emails("ALEX") == ["alex@example.com"])
            #expect(try await emails("%25") == [])
            #expect(try await emails("zzz") == [])
            let nul = try await client.get("/api/v1/admin/users?email=a%00b", bearer: admin)
            expectError(nul, .badRequest)
            #expect(nul.error?.errors?.map(\.field) == ["email"])
        }
    }

    @Test func oneUserAndItsErrors() async throws {
        try await withAdminApp { client, admin in
            let (ann, _) = try await client.registered(email: "ann@example.com")
            let id = try #require(try payload(of: ann.accessToken)["sub"] as? String)
            let response = try await client.get("/api/v1/admin/users/\(id)", bearer: admin)
            #expect(response.status == .ok)
            let user = try jsonObject(response)
            #expect(user["email"] as? String == "ann@example.com")
            #expect(user["activeSessions"] as? Int == 1)
            #expect(user["passwordHash"] == nil && user["tokenVersion"] == nil)
            expectError(try await client.get("/api/v1/admin/users/\(UUID().uuidString)", bearer: admin), .notFound, "User not found")
            expectError(try await client.get("/api/v1/admin/users/not-a-uuid", bearer: admin), .notFound, "User not found")
        }
    }

    @Test func roleChangesKeepSessionsAndTheNextRefreshCarriesTheRole() async throws {
        try await withAdminApp { client, admin in
            let (ann, cookie) = try await client.registered(email: "ann@example.com")
            let id = try #require(try payload(of: ann.accessToken)["sub"] as? String)
            let response = try await client.send(.patch, "/api/v1/admin/users/\(id)", bearer: admin, json: #"{"role":"admin"}"#)
            #expect(response.status == .ok, "\(response.text)")
            #expect(try jsonObject(response)["role"] as? String == "admin")
            let refreshed = try await client.refresh(cookie: cookie)
            #expect(refreshed.status == .ok)
            #expect(try payload(of: try refreshed.decode(AccessTokenResponse.self).accessToken)["role"] as? String == "admin")
        }
    }

    @Test(arguments: [
        (#"{"role":"admin","tokenVersion":0}"#, ["tokenVersion"]),
        (#"{"role":"user","passwordHash":"$2b$04$x"}"#, ["passwordHash"]),
        (#"{"id":"00000000-0000-0000-0000-000000000000"}"#, ["role", "id"]),
        (#"{"role":"root"}"#, ["role"]),
        (#"{"role":1}"#, ["role"]),
        (#"{}"#, ["role"]),
    ])
    func massAssignmentAndBadRolesAre400(body: String, fields: [String]) async throws {
        try await withAdminApp { client, admin in
            let (ann, _) = try await client.registered(email: "ann@example.com")
            let id = try #require(try payload(of: ann.accessToken)["sub"] as? String)
            let response = try await client.send(.patch, "/api/v1/admin/users/\(id)", bearer: admin, json: body)
            expectError(response, .badRequest)
            #expect(Set(response.error?.errors?.map(\.field) ?? []) == Set(fields), "\(response.text)")
            let user = try jsonObject(try await client.get("/api/v1/admin/users/\(id)", bearer: admin))
            #expect(user["role"] as? String == "user")
            #expect(try await client.login(email: "ann@example.com").status == .ok)
        }
    }

    @Test func unknownUsersAre404OnEveryWrite() async throws {
        try await withAdminApp { client, admin in
            for id in [UUID().uuidString, "nope"] {
                expectError(
                    try await client.send(.patch, "/api/v1/admin/users/\(id)", bearer: admin, json: #"{"role":"user"}"#),
                    .notFound, "User not found"
                )
                expectError(try await client.send(.delete, "/api/v1/admin/users/\(id)", bearer: admin), .notFound, "User not found")
                expectError(try await client.send(.post, "/api/v1/admin/users/\(id)/logout", bearer: admin), .notFound, "User not found")
            }
        }
    }

    @Test func theLastAdminCanNeitherBeDemotedNorDeleted() async throws {
        try await withAdminApp { client, admin in
            let id = try #require(try payload(of: admin)["sub"] as? String)
            expectError(
                try await client.send(.patch, "/api/v1/admin/users/\(id)", bearer: admin, json: #"{"role":"user"}"#),
                .conflict, "Cannot remove the last admin"
            )
            expectError(try await client.send(.delete, "/api/v1/admin/users/\(id)", bearer: admin), .conflict, "Cannot remove the last admin")
            #expect(try jsonObject(try await client.get("/api/v1/admin/users/\(id)", bearer: admin))["role"] as? String == "admin")
        }
    }

    /// Two admins demoting each other at the same moment: one wins, one gets 409, and
    /// one admin is left (on PostgreSQL the admins' rows are locked, on SQLite the
    /// transactions run one at a time).
    @Test(arguments: ["patch", "delete"])
    func twoAdminsRemovingEachOtherLeaveOne(kind: String) async throws {
        for _ in 0..<5 {
            try await withAdminApp(admins: ["root@example.com", "ops@example.com"]) { client, root in
                let ops = try await client.accessToken(email: "ops@example.com")
                let rootID = try #require(try payload(of: root)["sub"] as? String)
                let opsID = try #require(try payload(of: ops)["sub"] as? String)
                async let first = kind == "patch"
                    ? client.send(.patch, "/api/v1/admin/users/\(opsID)", bearer: root, json: #"{"role":"user"}"#)
                    : client.send(.delete, "/api/v1/admin/users/\(opsID)", bearer: root)
                async let second = kind == "patch"
                    ? client.send(.patch, "/api/v1/admin/users/\(rootID)", bearer: ops, json: #"{"role":"user"}"#)
                    : client.send(.delete, "/api/v1/admin/users/\(rootID)", bearer: ops)
                let (rootAnswer, opsAnswer) = (try await first.status, try await second.status)
                let success = kind == "patch" ? 200 : 204
                // The loser is refused: 409 when it acted while both were admins, 403 (or
                // 401 for a deleted admin) when the winner's change had already landed.
                #expect([rootAnswer.code, opsAnswer.code].filter { $0 == success }.count == 1, "\(rootAnswer) \(opsAnswer)")
                #expect([rootAnswer.code, opsAnswer.code].allSatisfy { [success, 409, 403, 401].contains($0) })
                let winner = rootAnswer.code == success ? root : ops
                let users = try #require(try jsonObject(try await client.get("/api/v1/admin/users", bearer: winner))["users"] as? [[String: Any]])
                #expect(users.filter { $0["role"] as? String == "admin" }.count == 1)
            }
        }
    }

    /// A demoted, deleted or signed-out admin cannot act (or restore itself) with the token
    /// it holds: the revocation list refuses it (a role other than the current one is
    /// 401 `Access token revoked`, SPEC.md §3.6), and the admin routes also ask the
    /// database.
    @Test func anAdminWhoLostTheRoleCannotActWithAnOldToken() async throws {
        try await withAdminApp(admins: ["root@example.com", "ops@example.com", "dev@example.com"]) { client, root in
            let ops = try await client.accessToken(email: "ops@example.com")
            let dev = try await client.accessToken(email: "dev@example.com")
            let opsID = try #require(try payload(of: ops)["sub"] as? String)
            let devID = try #require(try payload(of: dev)["sub"] as? String)
            #expect(try await client.send(.patch, "/api/v1/admin/users/\(opsID)", bearer: root, json: #"{"role":"user"}"#).status == .ok)
            expectError(try await client.get("/api/v1/admin/users", bearer: ops), .unauthorized, "Access token revoked")
            expectError(
                try await client.send(.patch, "/api/v1/admin/users/\(opsID)", bearer: ops, json: #"{"role":"admin"}"#),
                .unauthorized, "Access token revoked"
            )
            // A token issued after the change carries the new role: no admin, 403.
            let demoted = try await client.accessToken(email: "ops@example.com")
            expectError(try await client.get("/api/v1/admin/users", bearer: demoted), .forbidden, "Forbidden")
            #expect(try await client.send(.post, "/api/v1/admin/users/\(devID)/logout", bearer: root).status == .noContent)
            expectError(try await client.get("/api/v1/admin/users", bearer: dev), .unauthorized, "Access token revoked")
            #expect(try await client.send(.delete, "/api/v1/admin/users/\(devID)", bearer: root).status == .noContent)
            expectError(try await client.send(.delete, "/api/v1/admin/users/\(opsID)", bearer: dev), .unauthorized, "Access token revoked")
            let users = try #require(try jsonObject(try await client.get("/api/v1/admin/users", bearer: root))["users"] as? [[String: Any]])
            #expect(users.first { $0["id"] as? String == opsID }?["role"] as? String == "user")
        }
    }

    @Test func deletingAUserRemovesItAndItsSessions() async throws {
        try await withAdminApp { client, admin in
            let (ann, cookie) = try await client.registered(email: "ann@example.com")
            _ = try await client.loginFrom("B", ip: "", email: "ann@example.com")
            let id = try #require(try payload(of: ann.accessToken)["sub"] as? String)
            let response = try await client.send(.delete, "/api/v1/admin/users/\(id)", bearer: admin)
            #expect(response.status == .noContent)
            expectError(try await client.get("/api/v1/admin/users/\(id)", bearer: admin), .notFound, "User not found")
            expectError(try await client.refresh(cookie: cookie), .unauthorized, "Session expired, please log in again")
            expectError(try await client.login(email: "ann@example.com"), .unauthorized, "Invalid email or password")
            // The address is free again.
            #expect(try await client.register(email: "ann@example.com").status == .created)
        }
    }

    @Test func adminLogoutRevokesEverySessionAndBumpsTheVersion() async throws {
        try await withAdminApp { client, admin in
            let (ann, cookie) = try await client.registered(email: "ann@example.com")
            let other = try await client.loginFrom("B", ip: "", email: "ann@example.com")
            let id = try #require(try payload(of: ann.accessToken)["sub"] as? String)
            #expect(try await client.send(.post, "/api/v1/admin/users/\(id)/logout", bearer: admin).status == .noContent)
            expectError(try await client.refresh(cookie: cookie), .unauthorized, "Session expired, please log in again")
            expectError(try await client.refresh(cookie: other.cookie), .unauthorized, "Session expired, please log in again")
            #expect(try jsonObject(try await client.get("/api/v1/admin/users/\(id)", bearer: admin))["activeSessions"] as? Int == 0)
            let again = try await client.accessToken(email: "ann@example.com")
            #expect(try payload(of: again)["version"] as? Int == 1)
        }
    }
}
