import FluentKit
import ArgumentParser
import Foundation
import Gatehouse
import GatehouseFluent
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization
import UnixSignals

/// `gatehouse serve`: migrate, then serve until SIGTERM/SIGINT.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the HTTP server (the default command).")

    func run() async throws {
        let configuration = try EnvironmentLoader.loadOrExit(requireSecrets: true)
        let logger = makeLogger(level: configuration.logLevel, format: configuration.logFormat)
        if configuration.generatedSecrets {
            logger.warning("JWT secrets not configured: generated random secrets for this process; tokens will not survive a restart")
        }
        let app = try await exitingOnDatabaseFailure(configuration) {
            try await buildApplication(configuration, logger: logger)
        }
        try await Self.run(app, shutdownTimeout: configuration.shutdownTimeout, logger: logger)
    }

    /// Runs until SIGTERM or SIGINT, then drains (SPEC.md §3.8): the server stops
    /// accepting connections and in-flight requests finish, for at most
    /// `SHUTDOWN_TIMEOUT` seconds; requests still running then are cut off. Either way the
    /// process exits 0 once a signal asked it to stop. (Hummingbird's `runService` takes
    /// no shutdown limit, so the ServiceGroup is built here.)
    static func run(_ app: some ApplicationProtocol, shutdownTimeout: Int, logger: Logger) async throws {
        var configuration = ServiceGroupConfiguration(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.maximumGracefulShutdownDuration = .seconds(shutdownTimeout)
        // No cancellation deadline of ServiceLifecycle's: it ends in `fatalError`. The
        // watchdog below is the backstop.
        configuration.maximumCancellationDuration = nil
        // Past the timeout the group cancels the server, but a request busy outside Swift's
        // cancellation (a password hash on its thread pool) would still hold the exit.
        // This watchdog ends the process a second after the timeout, cutting such requests off.
        let signalled = Atomic<Bool>(false)
        let watchdog = Task.detached {
            for await _ in await UnixSignalsSequence(trapping: .sigterm, .sigint) {
                signalled.store(true, ordering: .relaxed)
                try await Task.sleep(for: .seconds(shutdownTimeout) + .seconds(1))
                logger.warning("Shutdown timeout reached: requests still running were cut off", metadata: ["shutdown_timeout_s": "\(shutdownTimeout)"])
                LogSink.standardError.flush()
                Foundation.exit(0)
            }
        }
        defer { watchdog.cancel() }
        do {
            try await ServiceGroup(configuration: configuration).run()
        } catch where signalled.load(ordering: .relaxed) {
            // Asked to stop, and a request cancelled at the timeout ended the group with its
            // error: still the exit the signal asked for.
            logger.warning("Shutdown ended with an error", metadata: ["error": "\(type(of: error))"])
        }
        logger.info("Stopped")
        LogSink.standardError.flush()
    }
}

/// `gatehouse migrate`: bring the schema up to date and exit.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run pending database migrations and exit.")

    func run() async throws {
        let configuration = try EnvironmentLoader.loadOrExit(requireSecrets: false)
        let logger = makeLogger(level: configuration.logLevel, format: configuration.logFormat)
        let databases = try await exitingOnDatabaseFailure(configuration) { try await configuration.openDatabase(logger: logger) }
        await databases.shutdownAsync()
        print("Migrations are up to date.")
    }
}

/// `gatehouse secret`: 64 random bytes as hex, for `JWT_ACCESS_SECRET` and `JWT_REFRESH_SECRET`.
struct Secret: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print 64 random bytes as hex, for use as a JWT secret.")

    func run() {
        print(SecretGenerator.hex(bytes: 64))
    }
}

/// Runs a start-up step that opens the database; if it fails, says so in one line
/// (the location without its password, and the kind of failure) and exits 1.
func exitingOnDatabaseFailure<T>(_ configuration: ServerConfiguration, _ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch {
        let what = DatabaseFailure.isUnavailable(error) ? "cannot reach the database" : "cannot set up the database"
        printError("gatehouse: \(what) at \(configuration.database.redacted) (\(type(of: error)))")
        throw ExitCode(1)
    }
}
