import FluentKit
import FluentSQLiteDriver
import GatehouseFluent
import Logging
import NIOPosix
import SQLKit

/// Opens the configured database and brings its schema up to date.
enum DatabaseSetup {
    /// A `Databases` with the configured database as default. SQLite runs its calls on
    /// `NIOThreadPool.singleton`, never on the bcrypt pool.
    static func open(_ location: DatabaseLocation) -> Databases {
        let databases = Databases(threadPool: .singleton, on: MultiThreadedEventLoopGroup.singleton)
        // SQL logging stays off at every level: it prints bound values, and those include
        // password hashes.
        switch location {
        case .sqliteFile(let path):
            databases.use(.sqlite(.file(path), sqlLogLevel: nil), as: .sqlite)
        case .sqliteMemory:
            databases.use(.sqlite(.memory, sqlLogLevel: nil), as: .sqlite)
        }
        return databases
    }

    /// Opens the database and migrates it; on failure the database is shut down again.
    static func openMigrated(_ location: DatabaseLocation, logger: Logger) async throws -> Databases {
        let databases = open(location)
        do {
            try await migrate(databases, location: location, logger: logger)
        } catch {
            await databases.shutdownAsync()
            throw error
        }
        return databases
    }

    /// Runs every pending migration. Idempotent: applied migrations are recorded.
    static func migrate(_ databases: Databases, location: DatabaseLocation, logger: Logger) async throws {
        let logger = FluentDatabaseProvider.quiet(logger)
        let eventLoop = databases.eventLoopGroup.any()
        if case .sqliteFile = location,
           let sql = databases.database(logger: logger, on: eventLoop) as? any SQLDatabase {
            // WAL lets readers proceed during a write; it is a property of the file, kept across restarts.
            try await sql.raw("PRAGMA journal_mode=WAL").run()
        }
        let migrations = Migrations()
        migrations.add(GatehouseMigrations.all)
        let migrator = Migrator(databases: databases, migrations: migrations, logger: logger, on: eventLoop, migrationLogLevel: .debug)
        try await migrator.setupIfNeeded().get()
        try await migrator.prepareBatch().get()
    }
}
