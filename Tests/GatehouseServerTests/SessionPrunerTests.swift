import FluentKit
import Foundation
import Gatehouse
@testable import GatehouseFluent
import Logging
import ServiceLifecycle
import Testing

@testable import GatehouseServer

@Suite struct SessionPrunerTests {
    func session(user: UUID, expires: Date, revoked: Date? = nil) -> SessionRecord {
        let created = expires.addingTimeInterval(-86_400)
        return SessionRecord(
            id: UUID(), userID: user, generation: 0, rotatedAt: created, createdAt: created, lastUsedAt: created,
            expiresAt: expires, revokedAt: revoked, userAgent: nil, ip: nil
        )
    }

    @Test func removesOnlySessionsLongExpiredOrRevoked() async throws {
        let database = TemporaryDatabase()
        defer { database.remove() }
        let logger = Logger(label: "test")
        let (service, databases) = try await makeService(database)
        let user = try await service.createUser(
            try Registration.validate(name: "Pru", email: "prune@example.com", password: "secret123"), role: .user, logger: logger
        )
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let sessions = FluentSessionRepository(provider: FluentDatabaseProvider(databases: databases))
        let active = session(user: user.id, expires: now.addingTimeInterval(86_400))
        let longExpired = session(user: user.id, expires: now.addingTimeInterval(-2 * 86_400))
        let justExpired = session(user: user.id, expires: now.addingTimeInterval(-3_600))
        let longRevoked = session(user: user.id, expires: now.addingTimeInterval(86_400), revoked: now.addingTimeInterval(-2 * 86_400))
        let justRevoked = session(user: user.id, expires: now.addingTimeInterval(86_400), revoked: now.addingTimeInterval(-3_600))
        for record in [active, longExpired, justExpired, longRevoked, justRevoked] {
            try await sessions.create(record, audit: nil, logger: logger)
        }

        await SessionPruner(sessions: sessions, logger: logger, now: { now }).pruneOnce()

        #expect(try await sessions.find(id: active.id, logger: logger) != nil)
        #expect(try await sessions.find(id: justExpired.id, logger: logger) != nil)
        #expect(try await sessions.find(id: justRevoked.id, logger: logger) != nil)
        #expect(try await sessions.find(id: longExpired.id, logger: logger) == nil)
        #expect(try await sessions.find(id: longRevoked.id, logger: logger) == nil)
        await databases.shutdownAsync()
    }

    /// A large prune runs in batches (so it never holds the database for long) and
    /// still removes everything it should, and nothing else.
    @Test func manyExpiredSessionsArePrunedInBatches() async throws {
        let database = TemporaryDatabase()
        defer { database.remove() }
        let logger = Logger(label: "test")
        let (service, databases) = try await makeService(database)
        let user = try await service.createUser(
            try Registration.validate(name: "Many", email: "many@example.com", password: "secret123"), role: .user, logger: logger
        )
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let sessions = FluentSessionRepository(provider: FluentDatabaseProvider(databases: databases))
        let expired = SessionPruner.batchSize * 2 + 300
        for _ in 0..<expired {
            try await sessions.create(session(user: user.id, expires: now.addingTimeInterval(-2 * 86_400)), audit: nil, logger: logger)
        }
        let active = session(user: user.id, expires: now.addingTimeInterval(86_400))
        try await sessions.create(active, audit: nil, logger: logger)
        // One batch deletes at most the limit.
        #expect(try await sessions.deleteInactive(before: now.addingTimeInterval(-86_400), limit: 10, logger: logger) == 10)

        await SessionPruner(sessions: sessions, logger: logger, now: { now }).pruneOnce()

        #expect(try await count("SELECT COUNT(*) AS n FROM gatehouse_sessions", in: database) == 1)
        #expect(try await sessions.find(id: active.id, logger: logger) != nil)
        await databases.shutdownAsync()
    }

    @Test func stopsOnGracefulShutdown() async throws {
        let database = TemporaryDatabase()
        defer { database.remove() }
        let logger = Logger(label: "test")
        let (_, databases) = try await makeService(database)
        let pruner = SessionPruner(
            sessions: FluentSessionRepository(provider: FluentDatabaseProvider(databases: databases)),
            interval: .seconds(3_600), logger: logger
        )
        let group = ServiceGroup(configuration: .init(services: [pruner], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await Task.sleep(for: .milliseconds(100))
            await group.triggerGracefulShutdown()
            // Returns well before the hour-long sleep would end.
            try await tasks.waitForAll()
        }
        await databases.shutdownAsync()
    }
}

/// SQLite's one connection is one per database, whichever provider asks: the auth
/// service's and the pruner's must not collide on the file lock.
@Suite struct DatabaseProviderTests {
    @Test func providersOfOneDatabaseShareSQLitesLoop() async throws {
        let database = TemporaryDatabase()
        defer { database.remove() }
        let databases = try await DatabaseSetup.openMigrated(database.location, poolSize: 2, logger: Logger(label: "test"))
        let first = FluentDatabaseProvider(databases: databases)
        let second = FluentDatabaseProvider(databases: databases)
        if TemporaryDatabase.isPostgres {
            #expect(first.pinned == nil && second.pinned == nil)
        } else {
            let loops = [first.pinned, second.pinned].compactMap { $0.map { ObjectIdentifier($0) } }
            #expect(loops.count == 2 && loops[0] == loops[1])
        }
        await databases.shutdownAsync()
    }
}
