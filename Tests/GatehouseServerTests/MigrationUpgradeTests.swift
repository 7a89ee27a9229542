import FluentKit
import Foundation
import Gatehouse
@testable import GatehouseFluent
import Logging
import SQLKit
import Testing

@testable import GatehouseServer

/// A database made by an earlier release is upgraded in place, every row kept.
@Suite struct MigrationUpgradeTests {
    @Test func theAccountsMigrationKeepsEveryUserAndSession() async throws {
        let database = TemporaryDatabase()
        defer { database.remove() }
        let logger = Logger(label: "test")
        // The schema of the release before accounts: the first three migrations.
        let old = try DatabaseSetup.open(database.location, poolSize: 1)
        let users = 40
        do {
            try await DatabaseSetup.migrate(old, location: database.location, logger: logger, migrations: Array(GatehouseMigrations.all.prefix(3)))
            let sql = try #require(old.database(logger: logger, on: old.eventLoopGroup.any()) as? any SQLDatabase)
            for index in 0..<users {
                let id = UUID()
                let created = Date(timeIntervalSince1970: 1_700_000_000 + Double(index))
                try await sql.raw("""
                    INSERT INTO gatehouse_users (id, name, email, password_hash, role, token_version, created_at, updated_at)
                    VALUES (\(bind: id), \(bind: "User \(index)"), \(bind: "user\(index)@example.com"), \(bind: "$2b$04$" + String(repeating: "x", count: 53)),
                            \(bind: index == 0 ? "admin" : "user"), \(bind: index % 3), \(bind: created), \(bind: created))
                    """).run()
                // Every user but the last has two sessions; the newest decides lastLoginAt.
                for session in 0..<(index == users - 1 ? 0 : 2) {
                    let opened = created.addingTimeInterval(Double(60 * (session + 1)))
                    try await sql.raw("""
                        INSERT INTO gatehouse_sessions (id, user_id, generation, rotated_at, created_at, last_used_at, expires_at, revoked_at, user_agent, ip)
                        VALUES (\(bind: UUID()), \(bind: id), \(bind: session), \(bind: opened), \(bind: opened), \(bind: opened),
                                \(bind: opened.addingTimeInterval(86_400 * 3_650)), \(bind: Date?.none), \(bind: "UA \(session)"), \(bind: "192.0.2.\(index)"))
                        """).run()
                }
            }
        } catch {
            await old.shutdownAsync()
            throw error
        }
        await old.shutdownAsync()

        // Upgrade, as `gatehouse serve` or `gatehouse migrate` would.
        let databases = try await DatabaseSetup.openMigrated(database.location, poolSize: 1, logger: logger)
        let repository = FluentUserRepository(provider: FluentDatabaseProvider(databases: databases))
        let page = try await repository.page(emailPrefix: nil, after: nil, limit: 100, now: Date(timeIntervalSince1970: 1_700_000_000), logger: logger)
        await databases.shutdownAsync()
        #expect(page.count == users)
        for (index, summary) in page.enumerated() {
            #expect(summary.user.email == "user\(index)@example.com")
            #expect(summary.user.name == "User \(index)")
            #expect(summary.user.tokenVersion == index % 3)
            #expect(summary.user.role == (index == 0 ? .admin : .user))
            if index == users - 1 {
                #expect(summary.lastLoginAt == nil)
                #expect(summary.activeSessions == 0)
            } else {
                #expect(summary.lastLoginAt == summary.user.createdAt.addingTimeInterval(120))
                #expect(summary.activeSessions == 2)
            }
        }
        #expect(try await count("SELECT COUNT(*) AS n FROM gatehouse_sessions", in: database) == 2 * (users - 1))
        #expect(try await count("SELECT COUNT(*) AS n FROM gatehouse_audit_events", in: database) == 0)
    }
}
