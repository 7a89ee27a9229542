import FluentKit
import FluentPostgresDriver
import FluentSQLiteDriver
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
///
/// Faster still is a provider made by ``sqlite(databases:configuration:logger:)``: its
/// statements go to one SQLite connection of its own through SQLiteNIO's async API, which
/// runs the statement on SQLite's thread and resumes the caller from there. Through
/// Fluent's pool every statement also passed through the event loop, once on the way in
/// and once per row and once on the way out: those thread hand-offs were the largest
/// item of a rotation's profile after the `fsync`.
public struct FluentDatabaseProvider: Sendable {
    let databases: Databases
    let id: DatabaseID?
    /// The one loop SQLite's connection lives on; `nil`: any loop.
    let pinned: (any EventLoop)?
    /// The provider's own SQLite connection, when it has one, and what shares it between
    /// statements and transactions.
    let connection: SQLiteConnection?
    let gate: ConnectionGate

    /// Uses the default database of `databases` unless `id` is given, through Fluent's
    /// connection pools.
    public init(databases: Databases, id: DatabaseID? = nil) {
        self.databases = databases
        self.id = id
        self.pinned = Self.sqliteLoop(databases, id: id)
        self.connection = nil
        self.gate = ConnectionGate()
    }

    private init(databases: Databases, id: DatabaseID?, connection: SQLiteConnection) {
        self.databases = databases
        self.id = id
        self.pinned = nil
        self.connection = connection
        self.gate = ConnectionGate()
    }

    /// A provider with one SQLite connection of its own, opened here with `configuration`:
    /// the configuration `databases` was given for SQLite (for an in-memory database, the
    /// same value, since it names the storage). Every repository sharing this provider
    /// shares the connection, which serialises their writes without lock retries.
    /// ``close()`` closes it; `databases` stays the caller's.
    public static func sqlite(
        databases: Databases, configuration: SQLiteConfiguration, id: DatabaseID? = nil, logger: Logger
    ) async throws -> FluentDatabaseProvider {
        let connection = try await SQLiteConnectionSource(configuration: configuration)
            .makeConnection(logger: quiet(logger), on: databases.eventLoopGroup.any())
            .get()
        // Another process may write the file too (`gatehouse users …` while the server
        // runs): wait up to five seconds for its write lock instead of failing at once.
        do {
            try await sql(connection).raw("PRAGMA busy_timeout = 5000").run()
        } catch {
            try? await connection.close()
            throw error
        }
        return FluentDatabaseProvider(databases: databases, id: id, connection: connection)
    }

    /// Closes the provider's own connection, if it has one; later calls throw
    /// `DatabaseUnavailable`.
    public func close() async {
        guard let connection, !connection.isClosed else { return }
        // The future-based close: it closes even when the calling task is cancelled (a
        // connection dropped unclosed traps in SQLiteNIO's debug builds).
        try? await connection.close().get()
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

    /// The handle the repositories' statements run on: the provider's own connection if
    /// it has one, else Fluent's database. Throws once closed or shut down.
    func sqlDatabase(logger: Logger) throws -> any SQLDatabase {
        if let connection {
            guard !connection.isClosed else { throw DatabaseUnavailable() }
            return GatedSQLDatabase(database: Self.sql(connection), gate: gate)
        }
        guard let sql = try database(logger: logger) as? any SQLDatabase else {
            throw DatabaseUnavailable()
        }
        return sql
    }

    /// The SQL handle of the provider's own connection. No query logging: bound values
    /// include password hashes.
    private static func sql(_ connection: SQLiteConnection) -> any SQLDatabase {
        connection.sql(encoder: .init(), decoder: .init(), queryLogLevel: nil)
    }

    /// Runs `body` in one transaction: everything it writes commits together, or (when it
    /// throws) nothing does. `body` must run its statements on the handle it is given.
    public func transaction<T: Sendable>(
        logger: Logger, _ body: @escaping @Sendable (any SQLDatabase) async throws -> T
    ) async throws -> T {
        if let connection {
            guard !connection.isClosed else { throw DatabaseUnavailable() }
            let sql = Self.sql(connection)
            return try await gate.transaction {
                // A cancelled task starts nothing.
                try Task.checkCancellation()
                // BEGIN, COMMIT and ROLLBACK go through SQLiteNIO's future-based API, which
                // runs even for a cancelled task (its async API refuses at once): a
                // ROLLBACK refused that way would leave the shared connection inside the
                // transaction, and every later statement of every task in it.
                // IMMEDIATE: take the write lock at BEGIN, so a transaction that reads and
                // then writes cannot fail half-way on another connection's lock.
                _ = try await connection.query("BEGIN IMMEDIATE", []).get()
                do {
                    let result = try await body(sql)
                    _ = try await connection.query("COMMIT", []).get()
                    return result
                } catch {
                    // Fails only when SQLite already ended the transaction itself.
                    _ = try? await connection.query("ROLLBACK", []).get()
                    throw error
                }
            }
        }
        return try await retryingConflicts {
            try await database(logger: logger).transaction { database in
                guard let sql = database as? any SQLDatabase else { throw DatabaseUnavailable() }
                return try await body(sql)
            }
        }
    }

    /// How often work that PostgreSQL aborted for a deadlock or a serialization failure is
    /// tried in all. Such an abort rolls everything back, so running it again is safe; two
    /// admin changes or a logout racing a deletion can deadlock on the same rows, and the
    /// client should not see a 500 for that.
    static let conflictAttempts = 3

    func retryingConflicts<T>(_ work: () async throws -> T) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await work()
            } catch let error as PSQLError where attempt < Self.conflictAttempts && Self.isConflict(error) {
                try await Task.sleep(for: .milliseconds(10 * attempt))
                attempt += 1
            }
        }
    }

    /// Deadlock detected (40P01) or serialization failure (40001).
    static func isConflict(_ error: PSQLError) -> Bool {
        guard let state = error.serverInfo?[.sqlState] else { return false }
        return state == "40P01" || state == "40001"
    }

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
