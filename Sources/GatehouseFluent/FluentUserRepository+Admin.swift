import FluentKit
import Foundation
import Gatehouse
import Logging
import SQLKit

extension FluentUserRepository {
    /// A user's columns, their last sign-in and their live sessions at `now`, counted in
    /// the same statement (a correlated count through the sessions' user index, not a
    /// query per user from here).
    private static func summarySelect(now: Date) -> SQLQueryString {
        """
        SELECT u.id, u.name, u.email, u.password_hash, u.role, u.token_version, u.created_at, u.updated_at, u.last_login_at,
               (SELECT COUNT(*) FROM gatehouse_sessions s
                WHERE s.user_id = u.id AND s.revoked_at IS NULL AND s.expires_at > \(bind: now)) AS active_sessions
        FROM gatehouse_users u
        """
    }

    public func page(emailPrefix: String?, after cursor: PagePosition?, limit: Int, now: Date, logger: Logger) async throws -> [UserSummary] {
        let sql = try provider.sqlDatabase(logger: logger)
        var query = Self.summarySelect(now: now)
        query.appendLiteral(" WHERE 1 = 1")
        if let emailPrefix {
            // A prefix, not a pattern: LIKE's wildcards and the escape itself are escaped.
            // Stored emails are lower-case; so is the prefix, for PostgreSQL's
            // case-sensitive LIKE.
            let escaped = emailPrefix.lowercased()
                .replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "%", with: "\\%")
                .replacingOccurrences(of: "_", with: "\\_")
            query.appendLiteral(" AND u.email LIKE ")
            query.appendInterpolation(bind: escaped + "%")
            query.appendLiteral(" ESCAPE '\\'")
        }
        if let cursor {
            query.appendLiteral(" AND (u.created_at > ")
            query.appendInterpolation(bind: cursor.at)
            query.appendLiteral(" OR (u.created_at = ")
            query.appendInterpolation(bind: cursor.at)
            query.appendLiteral(" AND u.id > ")
            query.appendInterpolation(bind: cursor.id)
            query.appendLiteral("))")
        }
        query.appendLiteral(" ORDER BY u.created_at, u.id LIMIT ")
        query.appendInterpolation(bind: limit)
        return try await sql.raw(query).all().compactMap { try UserSummary(row: $0) }
    }

    public func summary(id: UUID, now: Date, logger: Logger) async throws -> UserSummary? {
        let sql = try provider.sqlDatabase(logger: logger)
        var query = Self.summarySelect(now: now)
        query.appendLiteral(" WHERE u.id = ")
        query.appendInterpolation(bind: id)
        return try await sql.raw(query).first().flatMap { try UserSummary(row: $0) }
    }

    /// In a transaction: the admins, locked on PostgreSQL (`FOR UPDATE`), so that of two
    /// transactions removing one admin each the second waits for the first and then sees
    /// one admin fewer. SQLite needs no lock: its transactions write one at a time
    /// (BEGIN IMMEDIATE) and here share one connection.
    private static func lockedAdmins(on sql: any SQLDatabase) async throws -> Set<UUID> {
        let lock: SQLQueryString = sql.dialect.name == "postgresql" ? " FOR UPDATE" : ""
        var query: SQLQueryString = "SELECT id FROM gatehouse_users WHERE role = \(bind: Role.admin.rawValue)"
        query.appendInterpolation(lock)
        return Set(try await sql.raw(query).all().map { try $0.decode(column: "id", as: UUID.self) })
    }

    /// The user's role, its row locked on PostgreSQL for the rest of the transaction.
    private static func role(of id: UUID, on sql: any SQLDatabase) async throws -> String? {
        var query: SQLQueryString = "SELECT role FROM gatehouse_users WHERE id = \(bind: id)"
        if sql.dialect.name == "postgresql" { query.appendLiteral(" FOR UPDATE") }
        return try await sql.raw(query).first()?.decode(column: "role", as: String.self)
    }

    public func setRole(id: UUID, to role: Role, by actor: UUID?, at date: Date, audit: AuditEvent?, logger: Logger) async throws -> AdminChange {
        try await provider.transaction(logger: logger) { sql in
            let admins = try await Self.lockedAdmins(on: sql)
            // An admin demoted or deleted a moment ago still holds a token saying admin.
            if let actor, !admins.contains(actor) { return .forbidden }
            guard let current = try await Self.role(of: id, on: sql) else { return .notFound }
            if current == role.rawValue { return .done }
            if admins.contains(id), role != .admin, admins.count <= 1 { return .lastAdmin }
            let changed = try await sql.raw("""
                UPDATE gatehouse_users SET role = \(bind: role.rawValue), updated_at = \(bind: date) WHERE id = \(bind: id)
                RETURNING id
                """).all()
            guard !changed.isEmpty else { return .notFound }
            try await sql.raw(FluentRevocationStore.insert(user: id, .role(role), at: date)).run()
            if let audit { try await FluentAuditRepository.insert(audit, on: sql) }
            return .done
        }
    }

    public func delete(id: UUID, by actor: UUID?, at date: Date, audit: AuditEvent?, logger: Logger) async throws -> AdminChange {
        try await provider.transaction(logger: logger) { sql in
            let admins = try await Self.lockedAdmins(on: sql)
            if let actor, !admins.contains(actor) { return .forbidden }
            guard try await Self.role(of: id, on: sql) != nil else { return .notFound }
            if admins.contains(id), admins.count <= 1 { return .lastAdmin }
            // The sessions go with the user (explicitly, whatever the foreign-key setting).
            try await sql.raw("DELETE FROM gatehouse_sessions WHERE user_id = \(bind: id)").run()
            let deleted = try await sql.raw("DELETE FROM gatehouse_users WHERE id = \(bind: id) RETURNING id").all()
            guard !deleted.isEmpty else { return .notFound }
            try await sql.raw(FluentRevocationStore.insert(user: id, .deleted, at: date)).run()
            if let audit { try await FluentAuditRepository.insert(audit, on: sql) }
            return .done
        }
    }
}

extension UserSummary {
    /// A summary from a row of `summarySelect`; `nil` for a user of an unknown role.
    init?(row: any SQLRow) throws {
        guard let user = try UserRecord(row: row) else { return nil }
        self.init(
            user: user,
            lastLoginAt: try row.decode(column: "last_login_at", as: Date?.self),
            activeSessions: try row.decode(column: "active_sessions", as: Int.self)
        )
    }
}
