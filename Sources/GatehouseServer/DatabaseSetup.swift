import FluentKit
import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation
import GatehouseFluent
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import SQLKit
import ServiceLifecycle

/// Opens the configured database and brings its schema up to date.
enum DatabaseSetup {
    /// A `Databases` with the configured database as default. SQLite runs its calls on
    /// `NIOThreadPool.singleton`, never on the bcrypt pool. PostgreSQL gets a pool of at
    /// most `poolSize` connections, spread over the event loops, and waits at most
    /// `timeout` seconds to connect or for a free connection.
    static func open(_ location: DatabaseLocation, poolSize: Int = ServerConfiguration.defaultPoolSize, timeout: Int = 5) throws -> Databases {
        try configure(location, poolSize: poolSize, timeout: timeout).databases
    }

    /// `open`'s work, with the SQLite configuration handed to Fluent (an in-memory
    /// database is named by that value, so a second connection needs the same one).
    private static func configure(
        _ location: DatabaseLocation, poolSize: Int, timeout: Int
    ) throws -> (databases: Databases, sqlite: SQLiteConfiguration?, postgres: PostgresConnection.Configuration?) {
        let group = MultiThreadedEventLoopGroup.singleton
        let databases = Databases(threadPool: .singleton, on: group)
        // SQL logging stays off at every level: it prints bound values, and those include
        // password hashes. (PostgreSQL's factory needs a level: `.trace`, below the `.info`
        // floor of every logger Fluent is handed.)
        switch location {
        case .sqliteFile(let path):
            let sqlite = SQLiteConfiguration(storage: .file(path: path))
            databases.use(.sqlite(sqlite, sqlLogLevel: nil), as: .sqlite)
            return (databases, sqlite, nil)
        case .sqliteMemory:
            let sqlite = SQLiteConfiguration(storage: .memory)
            databases.use(.sqlite(sqlite, sqlLogLevel: nil), as: .sqlite)
            return (databases, sqlite, nil)
        case .postgres(let postgres):
            let loops = max(1, NIOSingletons.groupLoopCountSuggestion)
            var configuration = SQLPostgresConfiguration(
                hostname: postgres.host, port: postgres.port, username: postgres.username, password: postgres.password,
                database: postgres.database, tls: try tls(postgres.sslMode)
            )
            configuration.coreConfiguration.options.connectTimeout = .seconds(Int64(timeout))
            configuration.searchPath = postgres.schema.map { [$0] }
            databases.use(
                .postgres(
                    configuration: configuration,
                    maxConnectionsPerEventLoop: max(1, (poolSize + loops - 1) / loops),
                    connectionPoolTimeout: .seconds(Int64(timeout)),
                    sqlLogLevel: .trace
                ),
                as: .psql
            )
            // The revocation listener's connection, named (with the schema, when there is
            // one) so an operator can find it in `pg_stat_activity`.
            var listener = configuration.coreConfiguration
            let name = DatabaseRevocationFeed.listenerApplicationName + (postgres.schema.map { ":" + $0 } ?? "")
            listener.options.additionalStartupParameters.append(("application_name", name))
            return (databases, nil, listener)
        }
    }

    static func tls(_ mode: PostgresLocation.SSLMode) throws -> PostgresConnection.Configuration.TLS {
        switch mode {
        case .disable:
            return .disable
        case .prefer, .require:
            // libpq's prefer/require encrypt without verifying the certificate.
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.certificateVerification = .none
            let context = try NIOSSLContext(configuration: tls)
            return mode == .prefer ? .prefer(context) : .require(context)
        case .verifyFull:
            return .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
    }

    /// Opens the database and migrates it; on failure the database is shut down again.
    static func openMigrated(
        _ location: DatabaseLocation, poolSize: Int = ServerConfiguration.defaultPoolSize, timeout: Int = 5, logger: Logger
    ) async throws -> Databases {
        let databases = try open(location, poolSize: poolSize, timeout: timeout)
        do {
            try await migrate(databases, location: location, logger: logger)
        } catch {
            await databases.shutdownAsync()
            throw error
        }
        return databases
    }

    /// Opens and migrates the database a server serves from, with the provider its
    /// repositories share: on SQLite one connection of the provider's own (see
    /// `FluentDatabaseProvider.sqlite`), which the caller closes before shutting
    /// `databases` down.
    static func openServing(
        _ location: DatabaseLocation, poolSize: Int = ServerConfiguration.defaultPoolSize, timeout: Int = 5, logger: Logger
    ) async throws -> ServingDatabase {
        let (databases, sqlite, postgres) = try configure(location, poolSize: poolSize, timeout: timeout)
        do {
            try await migrate(databases, location: location, logger: logger)
            let provider = if let sqlite {
                try await FluentDatabaseProvider.sqlite(databases: databases, configuration: sqlite, logger: logger)
            } else {
                FluentDatabaseProvider(databases: databases)
            }
            return ServingDatabase(databases: databases, provider: provider, postgres: postgres)
        } catch {
            await databases.shutdownAsync()
            throw error
        }
    }

    /// Runs every pending migration. Idempotent: applied migrations are recorded.
    ///
    /// Instances of a fleet may start together; if two migrate at once on PostgreSQL one
    /// of them fails on the other's table, so a failed attempt is retried (and then finds
    /// the work done).
    static func migrate(
        _ databases: Databases, location: DatabaseLocation, logger: Logger, migrations list: [any Migration] = GatehouseMigrations.all
    ) async throws {
        let logger = FluentDatabaseProvider.quiet(logger)
        let eventLoop = databases.eventLoopGroup.any()
        let sql = databases.database(logger: logger, on: eventLoop) as? any SQLDatabase
        switch location {
        case .sqliteFile:
            // WAL lets readers proceed during a write; it is a property of the file, kept across restarts.
            try await sql?.raw("PRAGMA journal_mode=WAL").run()
        case .postgres(let postgres):
            if let schema = postgres.schema {
                // The name was checked to be a plain identifier when the URL was parsed.
                try await retrying { try await sql?.raw("CREATE SCHEMA IF NOT EXISTS \(unsafeRaw: schema)").run() }
            }
        case .sqliteMemory:
            break
        }
        let migrations = Migrations()
        migrations.add(list)
        try await retrying {
            let migrator = Migrator(databases: databases, migrations: migrations, logger: logger, on: eventLoop, migrationLogLevel: .debug)
            try await migrator.setupIfNeeded().get()
            try await migrator.prepareBatch().get()
        }
    }

    private static func retrying(_ body: () async throws -> Void) async throws {
        for attempt in 1... {
            do {
                return try await body()
            } catch where attempt < 3 {
                try await Task.sleep(for: .milliseconds(200 * attempt))
            }
        }
    }
}

/// The database a server serves from: Fluent's `Databases` (migrations, readiness) and
/// the provider every repository of the server shares.
struct ServingDatabase: Service {
    let databases: Databases
    let provider: FluentDatabaseProvider
    /// PostgreSQL's connection settings, for connections of their own (the revocation
    /// listener); `nil` on SQLite.
    let postgres: PostgresConnection.Configuration?

    /// Added to the application's services after `databases` and before the pruner, so
    /// that it stops after the HTTP server and the pruner and before `databases`: it closes
    /// the provider's connection.
    func run() async throws {
        try? await gracefulShutdown()
        await provider.close()
    }
}
