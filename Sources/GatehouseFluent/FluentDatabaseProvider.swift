import FluentKit
import Logging
import NIOCore

/// Hands repositories a database for one call, with the caller's logger.
public struct FluentDatabaseProvider: Sendable {
    let databases: Databases
    let id: DatabaseID?

    /// Uses the default database of `databases` unless `id` is given.
    public init(databases: Databases, id: DatabaseID? = nil) {
        self.databases = databases
        self.id = id
    }

    /// A database handle; throws once `databases` has been shut down.
    func database(logger: Logger) throws -> any Database {
        guard let database = databases.database(id, logger: Self.quiet(logger), on: databases.eventLoopGroup.any()) else {
            throw DatabaseUnavailable()
        }
        return database
    }
}

extension FluentDatabaseProvider {
    /// The logger handed to Fluent: never below `.info`, because FluentKit and SQLKit log
    /// every query's input values at `.debug`, and those include password hashes.
    public static func quiet(_ logger: Logger) -> Logger {
        var logger = logger
        logger.logLevel = max(logger.logLevel, .info)
        return logger
    }
}

/// The database was used after shutdown.
public struct DatabaseUnavailable: Error {}
