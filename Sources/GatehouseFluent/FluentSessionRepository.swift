import FluentKit
import Foundation
import Gatehouse
import Logging
import SQLKit

/// Sessions in any Fluent SQL database (SQLite, PostgreSQL).
public struct FluentSessionRepository: SessionRepository {
    let provider: FluentDatabaseProvider

    /// Creates the repository.
    public init(provider: FluentDatabaseProvider) {
        self.provider = provider
    }

    public func create(_ session: SessionRecord, logger: Logger) async throws {
        try await SessionModel(session).create(on: provider.database(logger: logger))
    }

    public func find(id: UUID, logger: Logger) async throws -> SessionRecord? {
        try await SessionModel.find(id, on: provider.database(logger: logger))?.record
    }

    public func rotate(id: UUID, from generation: Int, rotatedAt: Date, expiresAt: Date, logger: Logger) async throws -> Bool {
        // A conditional update: of two concurrent rotations of one generation, exactly one
        // matches the WHERE clause; RETURNING tells this call whether it was that one.
        let sql = try provider.sqlDatabase(logger: logger)
        let rows = try await sql.update(SessionModel.schema)
            .set("generation", to: generation + 1)
            .set("rotated_at", to: rotatedAt)
            .set("last_used_at", to: rotatedAt)
            .set("expires_at", to: expiresAt)
            .where("id", .equal, id)
            .where("generation", .equal, generation)
            .where("revoked_at", .is, SQLLiteral.null)
            .returning("id")
            .all()
        return !rows.isEmpty
    }

    public func revoke(id: UUID, userID: UUID, at date: Date, logger: Logger) async throws {
        try await SessionModel.query(on: provider.database(logger: logger))
            .filter(\.$id == id)
            .filter(\.$userID == userID)
            .filter(\.$revokedAt == nil)
            .set(\.$revokedAt, to: date)
            .update()
    }

    public func revokeAll(userID: UUID, except exceptID: UUID?, at date: Date, logger: Logger) async throws {
        let query = try SessionModel.query(on: provider.database(logger: logger))
            .filter(\.$userID == userID)
            .filter(\.$revokedAt == nil)
        if let exceptID {
            query.filter(\.$id != exceptID)
        }
        try await query.set(\.$revokedAt, to: date).update()
    }

    public func deleteInactive(before cutoff: Date, logger: Logger) async throws {
        try await SessionModel.query(on: provider.database(logger: logger))
            .group(.or) { group in
                group.filter(\.$expiresAt < cutoff).filter(\.$revokedAt < cutoff)
            }
            .delete()
    }
}
