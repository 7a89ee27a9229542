import Logging
import NIOCore
import SQLKit

/// The provider's SQLite connection as SQLKit sees it, each statement passing the gate.
struct GatedSQLDatabase: SQLDatabase {
    let database: any SQLDatabase
    let gate: ConnectionGate

    var logger: Logger { database.logger }
    var eventLoop: any EventLoop { database.eventLoop }
    var version: (any SQLDatabaseReportedVersion)? { database.version }
    var dialect: any SQLDialect { database.dialect }
    var queryLogLevel: Logger.Level? { database.queryLogLevel }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) -> EventLoopFuture<Void> {
        eventLoop.makeFutureWithTask { try await execute(sql: query, onRow) }
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) async throws {
        try await gate.statement { try await database.execute(sql: query, onRow) }
    }
}
