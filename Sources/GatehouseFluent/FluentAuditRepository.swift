import FluentKit
import Foundation
import Gatehouse
import Logging
import SQLKit

/// The audit log in the same database as users and sessions (statements written here,
/// like `FluentUserRepository`).
public struct FluentAuditRepository: AuditRepository {
    let provider: FluentDatabaseProvider

    /// Creates the repository.
    public init(provider: FluentDatabaseProvider) {
        self.provider = provider
    }

    static let columns = "id, at, event, actor_id, user_id, session_id, ip, user_agent, email"

    /// Inserts `event` on `sql` (a transaction's handle, when the event records a change).
    static func insert(_ event: AuditEvent, on sql: any SQLDatabase) async throws {
        try await sql.raw("""
            INSERT INTO gatehouse_audit_events (\(unsafeRaw: columns))
            VALUES (\(bind: event.id), \(bind: event.at), \(bind: event.kind.rawValue), \(bind: event.actorID), \(bind: event.userID),
                    \(bind: event.sessionID), \(bind: event.ip), \(bind: event.userAgent), \(bind: event.email))
            """).run()
    }

    /// The event as `INSERT … SELECT` (PostgreSQL: the final clause of a change, which a
    /// `WHERE` may make conditional).
    static func insertSelect(_ event: AuditEvent) -> SQLQueryString {
        """
        INSERT INTO gatehouse_audit_events (\(unsafeRaw: columns))
        SELECT \(bind: event.id), \(bind: event.at), \(bind: event.kind.rawValue), \(bind: event.actorID), \(bind: event.userID),
               \(bind: event.sessionID), \(bind: event.ip), \(bind: event.userAgent), \(bind: event.email)
        """
    }

    public func record(_ event: AuditEvent, logger: Logger) async throws {
        try await Self.insert(event, on: provider.sqlDatabase(logger: logger))
    }

    public func page(user: UUID?, after cursor: PagePosition?, limit: Int, logger: Logger) async throws -> [AuditEvent] {
        let sql = try provider.sqlDatabase(logger: logger)
        var query: SQLQueryString = "SELECT \(unsafeRaw: Self.columns) FROM gatehouse_audit_events WHERE 1 = 1"
        if let user {
            query.appendInterpolation(unsafeRaw: " AND user_id = ")
            query.appendInterpolation(bind: user)
        }
        if let cursor {
            // Newest first: strictly older than the cursor, ties broken by id.
            query.appendInterpolation(unsafeRaw: " AND (at < ")
            query.appendInterpolation(bind: cursor.at)
            query.appendInterpolation(unsafeRaw: " OR (at = ")
            query.appendInterpolation(bind: cursor.at)
            query.appendInterpolation(unsafeRaw: " AND id < ")
            query.appendInterpolation(bind: cursor.id)
            query.appendInterpolation(unsafeRaw: "))")
        }
        query.appendInterpolation(unsafeRaw: " ORDER BY at DESC, id DESC LIMIT ")
        query.appendInterpolation(bind: limit)
        return try await sql.raw(query).all().map { try AuditEvent(row: $0) }
    }

    public func deleteOlder(than cutoff: Date, limit: Int, logger: Logger) async throws -> Int {
        let sql = try provider.sqlDatabase(logger: logger)
        return try await sql.raw("""
            DELETE FROM gatehouse_audit_events WHERE id IN (
                SELECT id FROM gatehouse_audit_events WHERE at < \(bind: cutoff) ORDER BY at LIMIT \(bind: limit)
            ) RETURNING id
            """).all().count
    }
}

extension AuditEvent {
    init(row: any SQLRow) throws {
        let name = try row.decode(column: "event", as: String.self)
        guard let kind = Kind(rawValue: name) else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "unknown audit event \(name)"))
        }
        self.init(
            id: try row.decode(column: "id", as: UUID.self),
            at: try row.decode(column: "at", as: Date.self),
            kind: kind,
            actorID: try row.decode(column: "actor_id", as: UUID?.self),
            userID: try row.decode(column: "user_id", as: UUID?.self),
            sessionID: try row.decode(column: "session_id", as: UUID?.self),
            ip: try row.decode(column: "ip", as: String?.self),
            userAgent: try row.decode(column: "user_agent", as: String?.self),
            email: try row.decode(column: "email", as: String?.self)
        )
    }
}
