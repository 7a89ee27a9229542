import FluentKit
import Logging
import NIOCore
import SQLKit
import Synchronization

/// Hands repositories a database for one call, with the caller's logger.
///
/// SQLite takes one writer at a time. With a connection per event loop (FluentKit's
/// pools are per loop), two writers on two connections collide on the file's lock and
/// retry: a profile of refresh rotation spent most of its CPU in SQLite's transaction
/// start and WAL-index locking. For SQLite every call therefore goes through one event
/// loop's pool, one connection, which serialises the statements without the retries
/// (grace-path refreshes went from 4,500 to 6,000 per CPU-second, rotations from 1,000
/// to 2,000). PostgreSQL keeps every loop's pool.
public struct FluentDatabaseProvider: Sendable {
    let databases: Databases
    let id: DatabaseID?
    /// The one loop SQLite's connection lives on; `nil`: any loop.
    let pinned: (any EventLoop)?

    /// Uses the default database of `databases` unless `id` is given.
    public init(databases: Databases, id: DatabaseID? = nil) {
        self.databases = databases
        self.id = id
        self.pinned = Self.sqliteLoop(databases, id: id)
    }

    /// One loop per `Databases` and id, whichever provider asks (the auth service's and
    /// the pruner's must share SQLite's one connection); `nil` for other databases.
    private static func sqliteLoop(_ databases: Databases, id: DatabaseID?) -> (any EventLoop)? {
        let key = "\(UInt(bitPattern: ObjectIdentifier(databases)))/\(id?.string ?? "default")"
        return pinnedLoops.withLock { loops in
            if let known = loops[key] { return known }
            let loop = databases.eventLoopGroup.next()
            let dialect = (databases.database(id, logger: Logger(label: "gatehouse.probe"), on: loop) as? any SQLDatabase)?.dialect.name
            let pinned: (any EventLoop)? = dialect == "sqlite" ? loop : nil
            loops[key] = .some(pinned)
            return pinned
        }
    }

    private static let pinnedLoops = Mutex<[String: (any EventLoop)?]>([:])

    /// A database handle; throws once `databases` has been shut down.
    func database(logger: Logger) throws -> any Database {
        guard let database = databases.database(id, logger: Self.quiet(logger), on: pinned ?? databases.eventLoopGroup.any()) else {
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
