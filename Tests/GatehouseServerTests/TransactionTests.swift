import FluentKit
import Foundation
import Gatehouse
@testable import GatehouseFluent
import Logging
import SQLKit
import Testing

@testable import GatehouseServer

/// `FluentDatabaseProvider.transaction` on the server's database (on SQLite, the one
/// connection every repository shares).
@Suite struct TransactionTests {
    static func user(_ email: String) -> UserRecord {
        UserRecord(
            id: UUID(), name: "Test", email: email, passwordHash: "$2b$04$" + String(repeating: "a", count: 53), role: .user,
            tokenVersion: 0, createdAt: Date(timeIntervalSince1970: 1_000), updatedAt: Date(timeIntervalSince1970: 1_000)
        )
    }

    struct Abort: Error {}

    /// A statement another task sends while a transaction is open must not become part of
    /// it: here the transaction rolls back, and the other task's row must survive.
    @Test func aStatementDuringATransactionIsNotPartOfIt() async throws {
        try await withServing { serving, database, logger in
            let users = FluentUserRepository(provider: serving.provider)
            let inside = Self.user("inside@example.com")
            let started = AsyncStream<Void>.makeStream()
            async let transaction: Void = {
                do {
                    try await serving.provider.transaction(logger: logger) { sql in
                        try await sql.raw("""
                            INSERT INTO gatehouse_users (id, name, email, password_hash, role, token_version, created_at, updated_at)
                            VALUES (\(bind: inside.id), \(bind: inside.name), \(bind: inside.email), \(bind: inside.passwordHash),
                                    'user', 0, \(bind: inside.createdAt), \(bind: inside.updatedAt))
                            """).run()
                        started.continuation.yield()
                        try await Task.sleep(for: .milliseconds(300))
                        throw Abort()
                    }
                } catch is Abort {}
            }()
            for await _ in started.stream { break }
            try await users.create(Self.user("outside@example.com"), logger: logger)
            try await transaction
            #expect(try await users.find(email: "outside@example.com", logger: logger) != nil)
            #expect(try await users.find(email: "inside@example.com", logger: logger) == nil)
        }
    }

    /// A transaction whose task is cancelled rolls back and leaves the connection out of
    /// it: the next statement commits (seen here from a connection of its own).
    @Test func aCancelledTransactionLeavesTheConnectionUsable() async throws {
        try await withServing { serving, database, logger in
            let users = FluentUserRepository(provider: serving.provider)
            let inside = Self.user("inside@example.com")
            let started = AsyncStream<Void>.makeStream()
            let task = Task {
                try await serving.provider.transaction(logger: logger) { sql in
                    try await sql.raw("""
                        INSERT INTO gatehouse_users (id, name, email, password_hash, role, token_version, created_at, updated_at)
                        VALUES (\(bind: inside.id), 'Test', \(bind: inside.email), \(bind: inside.passwordHash), 'user', 0,
                                \(bind: inside.createdAt), \(bind: inside.updatedAt))
                        """).run()
                    started.continuation.yield()
                    try await Task.sleep(for: .seconds(2))
                }
            }
            for await _ in started.stream { break }
            task.cancel()
            _ = await task.result
            try await users.create(Self.user("after@example.com"), logger: logger)
            #expect(try await count("SELECT COUNT(*) AS n FROM gatehouse_users WHERE email = 'after@example.com'", in: database) == 1)
            // On SQLite the cancellation reaches the body and the transaction rolls back. On
            // PostgreSQL FluentKit runs the body in a task of its own, which the caller's
            // cancellation does not reach: it finishes and commits.
            let inserted = try await count("SELECT COUNT(*) AS n FROM gatehouse_users WHERE email = 'inside@example.com'", in: database)
            #expect(inserted == (TemporaryDatabase.isPostgres ? 1 : 0))
        }
    }

    /// Many statements and transactions at once all finish, and every committed
    /// transaction's writes are there.
    @Test func statementsAndTransactionsInterleaveWithoutLoss() async throws {
        try await withServing { serving, database, logger in
            let users = FluentUserRepository(provider: serving.provider)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<40 {
                    group.addTask {
                        if index.isMultiple(of: 4) {
                            try await serving.provider.transaction(logger: logger) { sql in
                                for part in 0..<2 {
                                    let user = Self.user("tx\(index)-\(part)@example.com")
                                    try await sql.raw("""
                                        INSERT INTO gatehouse_users (id, name, email, password_hash, role, token_version, created_at, updated_at)
                                        VALUES (\(bind: user.id), 'Test', \(bind: user.email), \(bind: user.passwordHash), 'user', 0,
                                                \(bind: user.createdAt), \(bind: user.updatedAt))
                                        """).run()
                                }
                            }
                        } else {
                            try await users.create(Self.user("single\(index)@example.com"), logger: logger)
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await count("SELECT COUNT(*) AS n FROM gatehouse_users", in: database) == 10 * 2 + 30)
        }
    }
}

/// PostgreSQL aborts one of two transactions that lock the same rows in opposite orders
/// (a deadlock); the provider runs the aborted one again, so both succeed.
@Suite struct DeadlockRetryTests {
    @Test func transactionsThatDeadlockBothSucceed() async throws {
        try await withServing { serving, _, logger in
            let users = FluentUserRepository(provider: serving.provider)
            let first = TransactionTests.user("first@example.com"), second = TransactionTests.user("second@example.com")
            try await users.create(first, logger: logger)
            try await users.create(second, logger: logger)
            let isPostgres = TemporaryDatabase.isPostgres
            @Sendable func rename(_ a: UUID, then b: UUID, to name: String) async throws {
                try await serving.provider.transaction(logger: logger) { sql in
                    try await sql.raw("UPDATE gatehouse_users SET name = \(bind: name) WHERE id = \(bind: a)").run()
                    if isPostgres {
                        try await sql.raw("SELECT pg_sleep(0.3)").run()
                    } else {
                        try await Task.sleep(for: .milliseconds(300))
                    }
                    try await sql.raw("UPDATE gatehouse_users SET name = \(bind: name) WHERE id = \(bind: b)").run()
                }
            }
            async let one: Void = rename(first.id, then: second.id, to: "One")
            async let two: Void = rename(second.id, then: first.id, to: "Two")
            try await one
            try await two
            let names = Set([
                try await users.find(id: first.id, logger: logger)?.name, try await users.find(id: second.id, logger: logger)?.name,
            ])
            // Whichever ran last renamed both.
            #expect(names.count == 1)
        }
    }

    /// A password change whose last step cannot happen (the caller's session was revoked
    /// meanwhile) rolls back the password, the version and the change-table row with it.
    @Test func changePasswordInARevokedSessionRollsBack() async throws {
        try await withServing { serving, database, logger in
            let users = FluentUserRepository(provider: serving.provider)
            let sessions = FluentSessionRepository(provider: serving.provider)
            let user = TransactionTests.user("dan@example.com")
            try await users.create(user, logger: logger)
            let now = Date(timeIntervalSince1970: 2_000)
            let session = SessionRecord(
                id: UUID(), userID: user.id, generation: 0, rotatedAt: now, createdAt: now, lastUsedAt: now,
                expiresAt: now.addingTimeInterval(86_400), revokedAt: nil, userAgent: nil, ip: nil
            )
            try await sessions.create(session, audit: nil, logger: logger)
            try await sessions.revoke(id: session.id, userID: user.id, at: now, audit: nil, logger: logger)
            let before = try await count("SELECT COUNT(*) AS n FROM gatehouse_revocations", in: database)
            let change = try await users.changePassword(
                id: user.id, from: user.passwordHash, to: "$2b$04$" + String(repeating: "b", count: 53), keeping: session.id, at: now,
                audit: nil, logger: logger
            )
            #expect(change == nil)
            let stored = try #require(try await users.find(id: user.id, logger: logger))
            #expect(stored.passwordHash == user.passwordHash)
            #expect(stored.tokenVersion == 0)
            #expect(try await count("SELECT COUNT(*) AS n FROM gatehouse_revocations", in: database) == before)
        }
    }
}

/// Runs `body` on a freshly migrated database opened as the server opens it, and closes
/// everything afterwards, also when `body` throws.
func withServing(_ body: (ServingDatabase, TemporaryDatabase, Logger) async throws -> Void) async throws {
    let database = TemporaryDatabase()
    defer { database.remove() }
    let logger = Logger(label: "test")
    let serving = try await DatabaseSetup.openServing(database.location, poolSize: 4, logger: logger)
    do {
        try await body(serving, database, logger)
    } catch {
        await serving.provider.close()
        await serving.databases.shutdownAsync()
        throw error
    }
    await serving.provider.close()
    await serving.databases.shutdownAsync()
}
