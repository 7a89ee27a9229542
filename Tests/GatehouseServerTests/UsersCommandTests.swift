import Foundation
import Gatehouse
import Hummingbird
import HummingbirdTesting
import Testing

@testable import GatehouseServer

/// SPEC.md §5 "Later": `gatehouse users …`, run as separate processes against the
/// database of a server that is running.
@Suite struct UsersCommandTests {
    @Test func operatorCommandsManageUsersWhileTheServerRuns() async throws {
        let database = TemporaryDatabase()
        defer { database.remove() }
        try await makeAdmins(database)
        let environment = ["DATABASE_URL": database.url, "BCRYPT_COST": "4"]
        try await TestServer.withApp(database: database) { client in
            let (_, annCookie) = try await client.registered(email: "ann@example.com")
            _ = try await client.registered(email: "bob@example.com")

            let list = try runGatehouse(["users", "list", "--json"], environment: environment)
            #expect(list.status == 0, "\(list.stderr)")
            let lines = list.stdout.split(separator: "\n")
            #expect(lines.count == 3)
            let rows = try lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
            // Oldest first: root, then Ann and Bob (registered within one second: by id).
            #expect(rows.first?["email"] as? String == "root@example.com")
            #expect(Set(rows.compactMap { $0["email"] as? String }) == ["root@example.com", "ann@example.com", "bob@example.com"])
            #expect(rows.allSatisfy { $0["passwordHash"] == nil && $0["tokenVersion"] == nil })

            let filtered = try runGatehouse(["users", "list", "--email", "AN", "--json"], environment: environment)
            #expect(filtered.stdout.split(separator: "\n").count == 1)
            #expect(filtered.stdout.contains("ann@example.com"))
            let table = try runGatehouse(["users", "list"], environment: environment)
            #expect(table.status == 0)
            #expect(table.stdout.hasPrefix("EMAIL"))
            #expect(table.stdout.contains("bob@example.com"))

            // Roles, with the last-admin rule.
            let promote = try runGatehouse(["users", "set-role", "Ann@Example.com", "admin"], environment: environment)
            #expect(promote.status == 0, "\(promote.stderr)")
            let refreshed = try await client.refresh(cookie: annCookie)
            #expect(try payload(of: try refreshed.decode(AccessTokenResponse.self).accessToken)["role"] as? String == "admin")
            let annCookie2 = try #require(refreshed.refreshCookie)
            #expect(try runGatehouse(["users", "set-role", "root@example.com", "user"], environment: environment).status == 0)
            let last = try runGatehouse(["users", "set-role", "ann@example.com", "user"], environment: environment)
            #expect(last.status == 1)
            #expect(last.stderr.contains("Cannot remove the last admin"))
            let lastDelete = try runGatehouse(["users", "delete", "ann@example.com", "--yes"], environment: environment)
            #expect(lastDelete.status == 1)
            #expect(lastDelete.stderr.contains("Cannot remove the last admin"))
            #expect(try runGatehouse(["users", "set-role", "ann@example.com", "root"], environment: environment).status != 0)

            // Sign-out everywhere.
            let logout = try runGatehouse(["users", "logout", "ann@example.com"], environment: environment)
            #expect(logout.status == 0, "\(logout.stderr)")
            expectError(try await client.refresh(cookie: annCookie2), .unauthorized, "Session expired, please log in again")

            // Deletion asks, or needs --yes without a terminal.
            let unconfirmed = try runGatehouse(["users", "delete", "bob@example.com"], environment: environment)
            #expect(unconfirmed.status == 1)
            #expect(unconfirmed.stderr.contains("--yes"))
            #expect(try await client.login(email: "bob@example.com").status == .ok)
            let deleted = try runGatehouse(["users", "delete", "bob@example.com", "--yes"], environment: environment)
            #expect(deleted.status == 0, "\(deleted.stderr)")
            expectError(try await client.login(email: "bob@example.com"), .unauthorized, "Invalid email or password")

            let unknown = try runGatehouse(["users", "logout", "nobody@example.com"], environment: environment)
            #expect(unknown.status == 1)
            #expect(unknown.stderr.contains("no user with email nobody@example.com"))

            // The changes are in the audit log, with no actor.
            let admin = try await client.accessToken(email: "ann@example.com")
            let events = try #require(try jsonObject(try await client.get("/api/v1/admin/audit", bearer: admin))["events"] as? [[String: Any]])
            let kinds = events.compactMap { $0["event"] as? String }
            #expect(kinds.contains("user.deleted") && kinds.contains("user.logged_out_by_admin") && kinds.contains("user.role_changed"))
            #expect(events.filter { $0["event"] as? String == "user.deleted" }.allSatisfy { $0["actorId"] is NSNull })
        }
    }
}
