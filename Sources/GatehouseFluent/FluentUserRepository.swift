import FluentKit
import Foundation
import Gatehouse
import Logging
import SQLKit

/// Users in any SQL database FluentKit connects to (SQLite, PostgreSQL), through
/// statements written here with bound parameters, decoded by column name: no Fluent
/// models on the request path (their reflection cost about a millisecond a request).
/// The SQL is the same for both dialects; SQLKit writes each one's placeholders.
public struct FluentUserRepository: UserRepository {
    let provider: FluentDatabaseProvider

    /// Creates the repository.
    public init(provider: FluentDatabaseProvider) {
        self.provider = provider
    }

    /// The columns of a user, in the order `UserRecord(row:)` reads them.
    static let columns = "id, name, email, password_hash, role, token_version, created_at, updated_at"

    public func create(_ user: UserRecord, logger: Logger) async throws {
        do {
            try await provider.sqlDatabase(logger: logger).raw(Self.insert(user, lastLoginAt: nil)).run()
        } catch let error as any DatabaseError where error.isConstraintFailure {
            // The unique index on email is the only constraint an insert of a fresh id can break.
            throw StorageError.duplicateEmail
        }
    }

    static func insert(_ user: UserRecord, lastLoginAt: Date?) -> SQLQueryString {
        """
        INSERT INTO gatehouse_users (id, name, email, password_hash, role, token_version, created_at, updated_at, last_login_at)
        VALUES (\(bind: user.id), \(bind: user.name), \(bind: user.email), \(bind: user.passwordHash),
                \(bind: user.role.rawValue), \(bind: user.tokenVersion), \(bind: user.createdAt), \(bind: user.updatedAt),
                \(bind: lastLoginAt))
        """
    }

    public func register(_ user: UserRecord, session: SessionRecord, audit: AuditEvent, logger: Logger) async throws {
        do {
            // The session's foreign key is checked at the end of the statement (PostgreSQL)
            // or of the transaction's insert (SQLite, in order): the user is there by then.
            _ = try await provider.change(
                [Self.insert(user, lastLoginAt: session.createdAt), FluentSessionRepository.insert(session)], audit: audit, logger: logger
            )
        } catch let error as any DatabaseError where error.isConstraintFailure {
            throw StorageError.duplicateEmail
        }
    }

    public func logoutEverywhere(id: UUID, at date: Date, audit: AuditEvent?, logger: Logger) async throws -> Bool {
        // One statement for the version, so concurrent logouts each count. The sessions'
        // update names the user directly: a user that does not exist has none.
        try await provider.change([
            "UPDATE gatehouse_users SET token_version = token_version + 1, updated_at = \(bind: date) WHERE id = \(bind: id)",
            FluentSessionRepository.revokeAll(userID: id, except: nil, at: date),
        ], audit: audit, onlyIfFirstChanged: true, revoking: RevocationSource(kind: .version, at: date), logger: logger) > 0
    }

    public func find(id: UUID, logger: Logger) async throws -> UserRecord? {
        let sql = try provider.sqlDatabase(logger: logger)
        return try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM gatehouse_users WHERE id = \(bind: id)")
            .first()
            .flatMap { try UserRecord(row: $0) }
    }

    public func find(email: String, logger: Logger) async throws -> UserRecord? {
        let sql = try provider.sqlDatabase(logger: logger)
        return try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM gatehouse_users WHERE email = \(bind: email)")
            .first()
            .flatMap { try UserRecord(row: $0) }
    }

    public func changePassword(
        id: UUID, from old: String, to new: String, keeping session: UUID, at date: Date, audit: AuditEvent?, logger: Logger
    ) async throws -> PasswordChange? {
        struct NothingChanged: Error {}
        do {
            return try await provider.transaction(logger: logger) { sql in
                // Conditional on the hash the caller verified: of two concurrent changes
                // one wins and the other changes nothing.
                guard let row = try await sql.raw("""
                    UPDATE gatehouse_users
                    SET password_hash = \(bind: new), token_version = token_version + 1, updated_at = \(bind: date)
                    WHERE id = \(bind: id) AND password_hash = \(bind: old)
                    RETURNING token_version, role
                    """).first(),
                    let role = Role(rawValue: try row.decode(column: "role", as: String.self))
                else { throw NothingChanged() }
                let version = try row.decode(column: "token_version", as: Int.self)
                guard let generation = try await sql.raw("""
                    UPDATE gatehouse_sessions
                    SET generation = generation + 1, rotated_at = \(bind: date), last_used_at = \(bind: date)
                    WHERE id = \(bind: session) AND user_id = \(bind: id) AND revoked_at IS NULL AND expires_at > \(bind: date)
                    RETURNING generation
                    """).first()?.decode(column: "generation", as: Int.self)
                else { throw NothingChanged() }
                try await sql.raw("""
                    UPDATE gatehouse_sessions SET revoked_at = \(bind: date)
                    WHERE user_id = \(bind: id) AND revoked_at IS NULL AND id <> \(bind: session)
                    """).run()
                // The new version refuses every older token of the user, the caller's
                // included: it gets new ones in the answer.
                try await sql.raw(FluentRevocationStore.insert(user: id, .version(version), at: date)).run()
                if let audit { try await FluentAuditRepository.insert(audit, on: sql) }
                return PasswordChange(tokenVersion: version, role: role, generation: generation)
            }
        } catch is NothingChanged {
            return nil
        }
    }

    public func replacePasswordHash(id: UUID, from old: String, to new: String, at date: Date, logger: Logger) async throws -> Bool {
        let sql = try provider.sqlDatabase(logger: logger)
        // Conditional, so a password changed between the read and this write stays changed.
        let changed = try await sql.raw("""
            UPDATE gatehouse_users SET password_hash = \(bind: new), updated_at = \(bind: date)
            WHERE id = \(bind: id) AND password_hash = \(bind: old) RETURNING id
            """).all()
        return !changed.isEmpty
    }

    public func passwordHashPrefixCounts(logger: Logger) async throws -> [String: Int] {
        let sql = try provider.sqlDatabase(logger: logger)
        let rows = try await sql.raw(
            "SELECT substr(password_hash, 1, 7) AS prefix, COUNT(*) AS n FROM gatehouse_users GROUP BY substr(password_hash, 1, 7)"
        ).all()
        var counts: [String: Int] = [:]
        for row in rows {
            counts[try row.decode(column: "prefix", as: String.self), default: 0] += try row.decode(column: "n", as: Int.self)
        }
        return counts
    }
}

extension UserRecord {
    /// A user from a row of `FluentUserRepository.columns` (optionally prefixed, for
    /// joins); `nil` for a row that does not make sense (an unknown role): such a user is
    /// treated as absent rather than guessed at.
    init?(row: any SQLRow, prefix: String = "") throws {
        guard let role = Role(rawValue: try row.decode(column: prefix + "role", as: String.self)) else { return nil }
        self.init(
            id: try row.decode(column: prefix + "id", as: UUID.self),
            name: try row.decode(column: prefix + "name", as: String.self),
            email: try row.decode(column: prefix + "email", as: String.self),
            passwordHash: try row.decode(column: prefix + "password_hash", as: String.self),
            role: role,
            tokenVersion: try row.decode(column: prefix + "token_version", as: Int.self),
            createdAt: try row.decode(column: prefix + "created_at", as: Date.self),
            updatedAt: try row.decode(column: prefix + "updated_at", as: Date.self)
        )
    }
}
