import FluentKit
import Foundation
import Gatehouse
import Logging
import SQLKit

/// Sessions in any SQL database FluentKit connects to (SQLite, PostgreSQL), through
/// statements written here (see `FluentUserRepository`).
public struct FluentSessionRepository: SessionRepository {
    let provider: FluentDatabaseProvider

    /// Creates the repository.
    public init(provider: FluentDatabaseProvider) {
        self.provider = provider
    }

    static let columns = "id, user_id, generation, rotated_at, created_at, last_used_at, expires_at, revoked_at, user_agent, ip"

    public func create(_ session: SessionRecord, audit: AuditEvent?, logger: Logger) async throws {
        do {
            _ = try await provider.change([
                Self.insert(session),
                "UPDATE gatehouse_users SET last_login_at = \(bind: session.createdAt) WHERE id = \(bind: session.userID)",
            ], audit: audit, logger: logger)
        } catch let error as any DatabaseError where error.isConstraintFailure {
            // The only constraint a session of a fresh id can break: its user's foreign key
            // (the user was deleted between the password check and this insert).
            throw StorageError.userGone
        }
    }

    static func insert(_ session: SessionRecord) -> SQLQueryString {
        """
        INSERT INTO gatehouse_sessions (\(unsafeRaw: Self.columns))
        VALUES (\(bind: session.id), \(bind: session.userID), \(bind: session.generation), \(bind: session.rotatedAt),
                \(bind: session.createdAt), \(bind: session.lastUsedAt), \(bind: session.expiresAt), \(bind: session.revokedAt),
                \(bind: session.userAgent), \(bind: session.ip))
        """
    }

    public func find(id: UUID, logger: Logger) async throws -> SessionRecord? {
        let sql = try provider.sqlDatabase(logger: logger)
        return try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM gatehouse_sessions WHERE id = \(bind: id)")
            .first()
            .map { try SessionRecord(row: $0) }
    }

    /// The session and its user in one round trip (what every refresh needs).
    public func findWithUser(id: UUID, logger: Logger) async throws -> (session: SessionRecord, user: UserRecord?)? {
        let sql = try provider.sqlDatabase(logger: logger)
        let row = try await sql.raw("""
            SELECT s.id, s.user_id, s.generation, s.rotated_at, s.created_at, s.last_used_at, s.expires_at, s.revoked_at,
                   s.user_agent, s.ip, u.id AS u_id, u.name AS u_name, u.email AS u_email, u.password_hash AS u_password_hash,
                   u.role AS u_role, u.token_version AS u_token_version, u.created_at AS u_created_at, u.updated_at AS u_updated_at
            FROM gatehouse_sessions s LEFT JOIN gatehouse_users u ON u.id = s.user_id
            WHERE s.id = \(bind: id)
            """).first()
        guard let row else { return nil }
        let user = try row.decodeNil(column: "u_id") ? nil : try UserRecord(row: row, prefix: "u_")
        return (try SessionRecord(row: row), user)
    }

    public func rotate(id: UUID, from generation: Int, rotatedAt: Date, expiresAt: Date, logger: Logger) async throws -> Bool {
        // A conditional update: of two concurrent rotations of one generation, exactly one
        // matches the WHERE clause; RETURNING tells this call whether it was that one.
        let sql = try provider.sqlDatabase(logger: logger)
        let rows = try await sql.raw("""
            UPDATE gatehouse_sessions
            SET generation = \(bind: generation + 1), rotated_at = \(bind: rotatedAt), last_used_at = \(bind: rotatedAt),
                expires_at = \(bind: expiresAt)
            WHERE id = \(bind: id) AND generation = \(bind: generation) AND revoked_at IS NULL
            RETURNING id
            """).all()
        return !rows.isEmpty
    }

    public func rotateIfCurrent(
        id: UUID, userID: UUID, generation: Int, tokenVersion: Int, now: Date, rotatedAt: Date, expiresAt: Date,
        logger: Logger
    ) async throws -> Role? {
        // Everything `AuthService.refresh` checks before rotating, as conditions of one
        // conditional update (one statement instead of a read and a write): of two
        // concurrent rotations exactly one matches. The role comes back through RETURNING
        // (a subquery: SQLite's RETURNING may not name a joined table).
        let sql = try provider.sqlDatabase(logger: logger)
        let roles = Role.allCases.map(\.rawValue)
        let row = try await sql.raw("""
            UPDATE gatehouse_sessions
            SET generation = generation + 1, rotated_at = \(bind: rotatedAt), last_used_at = \(bind: rotatedAt),
                expires_at = \(bind: expiresAt)
            WHERE id = \(bind: id) AND user_id = \(bind: userID) AND generation = \(bind: generation)
              AND revoked_at IS NULL AND expires_at > \(bind: now)
              AND EXISTS (SELECT 1 FROM gatehouse_users u WHERE u.id = gatehouse_sessions.user_id
                          AND u.token_version = \(bind: tokenVersion) AND u.role IN (\(binds: roles)))
            RETURNING (SELECT u.role FROM gatehouse_users u WHERE u.id = gatehouse_sessions.user_id) AS role
            """).first()
        guard let row else { return nil }
        return Role(rawValue: try row.decode(column: "role", as: String.self))
    }

    public func listLive(userID: UUID, now: Date, logger: Logger) async throws -> [SessionRecord] {
        let sql = try provider.sqlDatabase(logger: logger)
        return try await sql.raw("""
            SELECT \(unsafeRaw: Self.columns) FROM gatehouse_sessions
            WHERE user_id = \(bind: userID) AND revoked_at IS NULL AND expires_at > \(bind: now)
            ORDER BY last_used_at DESC, created_at DESC, id
            """).all().map { try SessionRecord(row: $0) }
    }

    public func revokeLive(id: UUID, userID: UUID, at date: Date, audit: AuditEvent?, logger: Logger) async throws -> Bool {
        try await provider.change([
            """
            UPDATE gatehouse_sessions SET revoked_at = \(bind: date)
            WHERE id = \(bind: id) AND user_id = \(bind: userID) AND revoked_at IS NULL AND expires_at > \(bind: date)
            """,
        ], audit: audit, onlyIfFirstChanged: true, revoking: RevocationSource(kind: .session, at: date), logger: logger) > 0
    }

    public func revoke(id: UUID, userID: UUID, at date: Date, audit: AuditEvent?, logger: Logger) async throws {
        _ = try await provider.change([
            """
            UPDATE gatehouse_sessions SET revoked_at = \(bind: date)
            WHERE id = \(bind: id) AND user_id = \(bind: userID) AND revoked_at IS NULL
            """,
        ], audit: audit, onlyIfFirstChanged: true, revoking: RevocationSource(kind: .session, at: date), logger: logger)
    }

    public func revokeAll(userID: UUID, except exceptID: UUID?, at date: Date, audit: AuditEvent?, logger: Logger) async throws {
        _ = try await provider.change(
            [Self.revokeAll(userID: userID, except: exceptID, at: date)], audit: audit, onlyIfFirstChanged: true,
            revoking: RevocationSource(kind: .session, at: date), logger: logger
        )
    }

    static func revokeAll(userID: UUID, except exceptID: UUID?, at date: Date) -> SQLQueryString {
        var statement: SQLQueryString = """
            UPDATE gatehouse_sessions SET revoked_at = \(bind: date) WHERE user_id = \(bind: userID) AND revoked_at IS NULL
            """
        if let exceptID {
            statement.appendLiteral(" AND id <> ")
            statement.appendInterpolation(bind: exceptID)
        }
        return statement
    }

    public func deleteInactive(before cutoff: Date, limit: Int, logger: Logger) async throws -> Int {
        let sql = try provider.sqlDatabase(logger: logger)
        // One bounded batch per statement: a million expired rows deleted at once would
        // hold the write lock (and SQLite's one connection) for seconds. Each condition
        // on its own, so each is found through its index.
        var deleted = try await sql.raw("""
            DELETE FROM gatehouse_sessions WHERE id IN (
                SELECT id FROM gatehouse_sessions WHERE expires_at < \(bind: cutoff) LIMIT \(bind: limit)
            ) RETURNING id
            """).all().count
        if deleted < limit {
            deleted += try await sql.raw("""
                DELETE FROM gatehouse_sessions WHERE id IN (
                    SELECT id FROM gatehouse_sessions WHERE revoked_at < \(bind: cutoff) LIMIT \(bind: limit - deleted)
                ) RETURNING id
                """).all().count
        }
        return deleted
    }
}

extension SessionRecord {
    /// A session from a row of `FluentSessionRepository.columns`.
    init(row: any SQLRow) throws {
        self.init(
            id: try row.decode(column: "id", as: UUID.self),
            userID: try row.decode(column: "user_id", as: UUID.self),
            generation: try row.decode(column: "generation", as: Int.self),
            rotatedAt: try row.decode(column: "rotated_at", as: Date.self),
            createdAt: try row.decode(column: "created_at", as: Date.self),
            lastUsedAt: try row.decode(column: "last_used_at", as: Date.self),
            expiresAt: try row.decode(column: "expires_at", as: Date.self),
            revokedAt: try row.decode(column: "revoked_at", as: Date?.self),
            userAgent: try row.decode(column: "user_agent", as: String?.self),
            ip: try row.decode(column: "ip", as: String?.self)
        )
    }
}
