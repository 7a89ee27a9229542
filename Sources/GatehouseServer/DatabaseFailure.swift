import FluentKit
import Gatehouse
import Logging
import SQLKit
import FluentPostgresDriver
import GatehouseFluent
import NIOCore
import NIOPosix

/// Which errors mean "the database cannot be reached right now" (answered 503
/// `Service unavailable`) rather than "something is wrong" (500).
enum DatabaseFailure {
    /// SQLSTATE classes of a server that is there but cannot serve: 08 connection
    /// exception, 53 insufficient resources (too many connections), 57P01–57P03 shutting
    /// down or starting up.
    static let unavailableStates = ["08", "53", "57P01", "57P02", "57P03"]

    static func isUnavailable(_ error: any Error) -> Bool {
        switch error {
        case is ConnectionPoolTimeoutError, is ConnectionPoolError, is DatabaseUnavailable:
            return true
        case is NIOConnectionError, is ChannelError, is IOError:
            return true
        case let error as PSQLError:
            switch error.code {
            case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed:
                return true
            case .server:
                let state = error.serverInfo?[.sqlState] ?? ""
                return unavailableStates.contains { state.hasPrefix($0) }
            default:
                return false
            }
        case let error as any DatabaseError:
            return error.isConnectionClosed
        default:
            return false
        }
    }
}

extension DatabaseFailure {
    /// `SELECT 1`, answered within `timeout` seconds, or 503 `Service unavailable`.
    static func ping(_ databases: Databases, timeout: Int, logger: Logger) async throws {
        let quiet = FluentDatabaseProvider.quiet(logger)
        guard let sql = databases.database(logger: quiet, on: databases.eventLoopGroup.any()) as? any SQLDatabase else {
            throw AppError.serviceUnavailable
        }
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await sql.raw("SELECT 1").run() }
                group.addTask {
                    try await Task.sleep(for: .seconds(timeout))
                    throw ConnectionPoolTimeoutError.connectionRequestTimeout
                }
                try await group.next()
                group.cancelAll()
            }
        } catch {
            logger.warning("Database not ready", metadata: ["error.type": "\(type(of: error))"])
            throw AppError.serviceUnavailable
        }
    }
}
