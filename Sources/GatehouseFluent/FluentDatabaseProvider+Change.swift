import Foundation
import Gatehouse
import Logging
import SQLKit

extension FluentDatabaseProvider {
    /// Makes a change of one or more statements and records `audit` with it, atomically:
    /// the event is never lost when the change commits, never kept when it rolls back.
    /// Returns how many rows the first statement changed.
    ///
    /// On PostgreSQL the statements become one: each a data-modifying `WITH` clause, the
    /// event the final `INSERT` (one round trip, and atomic as any statement is). Elsewhere
    /// they run in a transaction, or alone when there is one statement and no event. With
    /// `onlyIfFirstChanged` the event is recorded only when the first statement changed a
    /// row. The statements must not depend on each other's results (they run against one
    /// snapshot on PostgreSQL). With `revoking`, every row the first statement changed
    /// also becomes a row of the revocation change table, in the same statement or
    /// transaction (SPEC.md §3.6).
    func change(
        _ statements: [SQLQueryString], audit: AuditEvent?, onlyIfFirstChanged: Bool = false, revoking: RevocationSource? = nil,
        logger: Logger
    ) async throws -> Int {
        precondition(!statements.isEmpty)
        let sql = try sqlDatabase(logger: logger)
        let first = statements[0] + " RETURNING " + (revoking?.returning ?? "1 AS changed")
        if sql.dialect.name == "postgresql", audit != nil || statements.count > 1 || revoking != nil {
            var query: SQLQueryString = "WITH step0 AS ("
            query.appendInterpolation(first)
            query.appendLiteral(")")
            for (index, statement) in statements.enumerated().dropFirst() {
                query.appendLiteral(", step\(index) AS (")
                query.appendInterpolation(statement)
                query.appendLiteral(")")
            }
            if let revoking {
                query.appendLiteral(", revoked AS (")
                query.appendInterpolation(revoking.insert(from: "step0"))
                query.appendLiteral(")")
            }
            if let audit {
                query.appendLiteral(" ")
                query.appendInterpolation(FluentAuditRepository.insertSelect(audit))
                if onlyIfFirstChanged { query.appendLiteral(" WHERE EXISTS (SELECT 1 FROM step0)") }
                query.appendLiteral(" RETURNING (SELECT COUNT(*) FROM step0) AS changed")
            } else {
                query.appendLiteral(" SELECT (SELECT COUNT(*) FROM step0) AS changed")
            }
            let statement = query
            return try await retryingConflicts {
                try await sql.raw(statement).first()?.decode(column: "changed", as: Int.self) ?? 0
            }
        }
        guard audit != nil || statements.count > 1 || revoking != nil else { return try await sql.raw(first).all().count }
        return try await transaction(logger: logger) { sql in
            let rows = try await sql.raw(first).all()
            if let revoking {
                for row in rows { try await sql.raw(try revoking.insert(row: row)).run() }
            }
            let changed = rows.count
            for statement in statements.dropFirst() { try await sql.raw(statement).run() }
            if let audit, !onlyIfFirstChanged || changed > 0 {
                try await FluentAuditRepository.insert(audit, on: sql)
            }
            return changed
        }
    }
}

extension SQLQueryString {
    static func + (lhs: SQLQueryString, rhs: String) -> SQLQueryString {
        var result = lhs
        result.appendLiteral(rhs)
        return result
    }
}
