import FluentKit
import Foundation
import Gatehouse
import Logging
import SQLKit

/// Users in any Fluent SQL database (SQLite, PostgreSQL).
public struct FluentUserRepository: UserRepository {
    let provider: FluentDatabaseProvider

    /// Creates the repository.
    public init(provider: FluentDatabaseProvider) {
        self.provider = provider
    }

    public func create(_ user: UserRecord, logger: Logger) async throws {
        do {
            try await UserModel(user).create(on: provider.database(logger: logger))
        } catch let error as any DatabaseError where error.isConstraintFailure {
            // The unique index on email is the only constraint an insert of a fresh id can break.
            throw StorageError.duplicateEmail
        }
    }

    public func find(id: UUID, logger: Logger) async throws -> UserRecord? {
        try await UserModel.find(id, on: provider.database(logger: logger))?.record
    }

    public func find(email: String, logger: Logger) async throws -> UserRecord? {
        try await UserModel.query(on: provider.database(logger: logger))
            .filter(\.$email == email)
            .first()?
            .record
    }

    public func incrementTokenVersion(id: UUID, at date: Date, logger: Logger) async throws {
        // One statement, so concurrent logouts each count.
        let sql = try provider.sqlDatabase(logger: logger)
        try await sql.update(UserModel.schema)
            .set("token_version", to: SQLBinaryExpression(SQLIdentifier("token_version"), .add, SQLLiteral.numeric("1")))
            .set("updated_at", to: date)
            .where("id", .equal, id)
            .run()
    }
}

extension FluentUserRepository {
    public func replacePasswordHash(id: UUID, from old: String, to new: String, at date: Date, logger: Logger) async throws -> Bool {
        let sql = try provider.sqlDatabase(logger: logger)
        // Conditional, so a password changed between the read and this write stays changed.
        let changed = try await sql.update(UserModel.schema)
            .set("password_hash", to: new)
            .set("updated_at", to: date)
            .where("id", .equal, id)
            .where("password_hash", .equal, old)
            .returning("id")
            .all()
        return !changed.isEmpty
    }

    public func passwordHashPrefixCounts(logger: Logger) async throws -> [String: Int] {
        struct Row: Decodable {
            let prefix: String
            let n: Int
        }
        let sql = try provider.sqlDatabase(logger: logger)
        let rows = try await sql.raw(
            "SELECT substr(password_hash, 1, 7) AS prefix, COUNT(*) AS n FROM \(ident: UserModel.schema) GROUP BY substr(password_hash, 1, 7)"
        ).all(decoding: Row.self)
        return Dictionary(rows.map { ($0.prefix, $0.n) }, uniquingKeysWith: +)
    }
}

extension FluentDatabaseProvider {
    /// The database as SQLKit sees it; every driver Gatehouse supports is SQL.
    func sqlDatabase(logger: Logger) throws -> any SQLDatabase {
        guard let sql = try database(logger: logger) as? any SQLDatabase else {
            throw DatabaseUnavailable()
        }
        return sql
    }
}
