import FluentKit
import Logging
import SQLKit

@testable import GatehouseServer

/// The single integer a `SELECT COUNT(*) AS n …` query answers, on a connection of its own.
func count(_ query: String, in database: TemporaryDatabase) async throws -> Int {
    struct Count: Decodable { let n: Int }
    let databases = try DatabaseSetup.open(database.location, poolSize: 1)
    do {
        guard let sql = databases.database(logger: Logger(label: "test"), on: databases.eventLoopGroup.any()) as? any SQLDatabase else {
            throw CancellationError()
        }
        let value = try await sql.raw(SQLQueryString(query)).first(decoding: Count.self)?.n ?? -1
        await databases.shutdownAsync()
        return value
    } catch {
        await databases.shutdownAsync()
        throw error
    }
}

/// How many users and sessions a database holds (garbage must write neither).
func rowCounts(_ database: TemporaryDatabase) async throws -> (users: Int, sessions: Int) {
    (try await count("SELECT COUNT(*) AS n FROM gatehouse_users", in: database),
     try await count("SELECT COUNT(*) AS n FROM gatehouse_sessions", in: database))
}
