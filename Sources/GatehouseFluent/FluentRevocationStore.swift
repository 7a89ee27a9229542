import FluentKit
import Foundation
import Gatehouse
import Logging
import SQLKit

/// The change table of instant revocation (`gatehouse_revocations`, SPEC.md §3.6): what
/// the repositories write with each change that ends tokens' right to act, and what
/// `DatabaseRevocationFeed` reads. Rows older than the access-token window are of no use
/// to anyone (no token they affect is still valid) and the pruner deletes them.
public struct FluentRevocationStore: PrunableStore {
    let provider: FluentDatabaseProvider
    /// Seconds a change matters: `JWT_ACCESS_TTL` plus the clock skew.
    let window: Int

    /// A store for `provider`'s database whose rows matter for `window` seconds.
    public init(provider: FluentDatabaseProvider, window: Int) {
        self.provider = provider
        self.window = window
    }

    static let columns = "seq, user_id, kind, session_id, token_version, role, at"

    /// The insert of one change, for a repository's transaction.
    static func insert(user: UUID, _ kind: RevocationChange.Kind, at date: Date) -> SQLQueryString {
        let at = seconds(date)
        return switch kind {
        case .version(let version):
            "INSERT INTO gatehouse_revocations (user_id, kind, token_version, at) VALUES (\(bind: user), 'version', \(bind: version), \(bind: at))"
        case .session(let session):
            "INSERT INTO gatehouse_revocations (user_id, kind, session_id, at) VALUES (\(bind: user), 'session', \(bind: session), \(bind: at))"
        case .role(let role):
            "INSERT INTO gatehouse_revocations (user_id, kind, role, at) VALUES (\(bind: user), 'role', \(bind: role.rawValue), \(bind: at))"
        case .deleted:
            "INSERT INTO gatehouse_revocations (user_id, kind, at) VALUES (\(bind: user), 'deleted', \(bind: at))"
        }
    }

    static func seconds(_ date: Date) -> Int { Int(date.timeIntervalSince1970.rounded(.down)) }

    /// The highest sequence written so far (0 for an empty table).
    func lastSequence(logger: Logger) async throws -> Int64 {
        try await provider.sqlDatabase(logger: logger)
            .raw("SELECT COALESCE(MAX(seq), 0) AS last FROM gatehouse_revocations").first()?
            .decode(column: "last", as: Int64.self) ?? 0
    }

    /// Changes made at or after `since` with a sequence in `(after, upTo]`, in sequence
    /// order, at most `limit`: a starting instance's load of the window, in pages.
    func changes(since: Int, after: Int64, upTo: Int64, limit: Int, logger: Logger) async throws -> [RevocationChange] {
        try await provider.sqlDatabase(logger: logger).raw("""
            SELECT \(unsafeRaw: Self.columns) FROM gatehouse_revocations
            WHERE seq > \(bind: after) AND seq <= \(bind: upTo) AND at >= \(bind: since)
            ORDER BY seq LIMIT \(bind: limit)
            """).all().compactMap(Self.change)
    }

    /// Changes after `cursor`, and those of the sequences in `gaps` (numbers below the
    /// cursor not seen yet: a transaction that took its number earlier may commit later),
    /// in sequence order, at most `limit`. One range scan of the primary key.
    func changes(after cursor: Int64, orIn gaps: [Int64], limit: Int, logger: Logger) async throws -> [RevocationChange] {
        var query: SQLQueryString = "SELECT \(unsafeRaw: Self.columns) FROM gatehouse_revocations WHERE seq > \(bind: cursor)"
        if !gaps.isEmpty {
            // Integers written by this process, not client text.
            query.appendLiteral(" OR seq IN (" + gaps.map(String.init).joined(separator: ",") + ")")
        }
        query.appendLiteral(" ORDER BY seq LIMIT ")
        query.appendInterpolation(bind: limit)
        return try await provider.sqlDatabase(logger: logger).raw(query).all().compactMap(Self.change)
    }

    /// A change from a row; `nil` for a kind this version does not know (written by a
    /// newer one), which it can only ignore.
    static func change(_ row: any SQLRow) throws -> RevocationChange? {
        let kind: RevocationChange.Kind
        switch try row.decode(column: "kind", as: String.self) {
        case "version":
            guard let version = try row.decode(column: "token_version", as: Int?.self) else { return nil }
            kind = .version(version)
        case "session":
            guard let session = try row.decode(column: "session_id", as: UUID?.self) else { return nil }
            kind = .session(session)
        case "role":
            guard let role = try row.decode(column: "role", as: String?.self).flatMap(Role.init(rawValue:)) else { return nil }
            kind = .role(role)
        case "deleted":
            kind = .deleted
        default:
            return nil
        }
        return RevocationChange(
            sequence: try row.decode(column: "seq", as: Int64.self), userID: try row.decode(column: "user_id", as: UUID.self),
            kind: kind, at: try row.decode(column: "at", as: Int.self)
        )
    }

    /// Deletes at most `limit` changes that stopped mattering before `cutoff` (made more
    /// than the window before it).
    public func deleteExpired(before cutoff: Date, limit: Int, logger: Logger) async throws -> Int {
        let oldest = Self.seconds(cutoff) - window
        return try await provider.sqlDatabase(logger: logger).raw("""
            DELETE FROM gatehouse_revocations WHERE seq IN (
                SELECT seq FROM gatehouse_revocations WHERE at < \(bind: oldest) LIMIT \(bind: limit)
            ) RETURNING seq
            """).all().count
    }
}

/// How a change's first statement yields change-table rows: one per row it changed.
struct RevocationSource: Sendable {
    enum Kind: String, Sendable {
        /// The statement updates users' `token_version`.
        case version
        /// The statement revokes sessions.
        case session
    }

    let kind: Kind
    let at: Date

    /// The first statement's `RETURNING` list: the user, the session, the version.
    var returning: String {
        switch kind {
        case .version: "id AS revoked_user, CAST(NULL AS uuid) AS revoked_session, token_version AS revoked_version"
        case .session: "user_id AS revoked_user, id AS revoked_session, CAST(NULL AS bigint) AS revoked_version"
        }
    }

    /// The change-table insert of the rows a `WITH` clause named `step` returned
    /// (PostgreSQL, where the change is one statement).
    func insert(from step: String) -> SQLQueryString {
        """
        INSERT INTO gatehouse_revocations (user_id, kind, session_id, token_version, at)
        SELECT revoked_user, \(unsafeRaw: "'" + kind.rawValue + "'"), revoked_session, revoked_version, \(bind: FluentRevocationStore.seconds(at))
        FROM \(unsafeRaw: step)
        """
    }

    /// The change-table insert for one row the first statement returned.
    func insert(row: any SQLRow) throws -> SQLQueryString {
        let user = try row.decode(column: "revoked_user", as: UUID.self)
        switch kind {
        case .version:
            return FluentRevocationStore.insert(user: user, .version(try row.decode(column: "revoked_version", as: Int.self)), at: at)
        case .session:
            return FluentRevocationStore.insert(user: user, .session(try row.decode(column: "revoked_session", as: UUID.self)), at: at)
        }
    }
}
