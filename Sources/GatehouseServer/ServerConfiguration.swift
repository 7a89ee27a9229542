import FluentKit
import Foundation
import Gatehouse
import Logging

/// Everything `gatehouse serve` needs: the library configuration plus what only a
/// server has (bind address, database, log level).
public struct ServerConfiguration: Sendable, CustomStringConvertible {
    /// Token, password and session settings.
    public var gatehouse: GatehouseConfiguration
    /// Bind host.
    public var host: String
    /// Bind port (0 picks a free one).
    public var port: Int
    /// Where the data lives.
    var database: DatabaseLocation
    /// Most connections to PostgreSQL this process opens (`DATABASE_POOL_SIZE`).
    public var databasePoolSize: Int
    /// Seconds to wait for a database connection before answering 503 (`DATABASE_TIMEOUT`).
    public var databaseTimeout: Int
    /// Log level.
    public var logLevel: Logger.Level
    /// How log lines are written (`LOG_FORMAT`): key=value text or one JSON object a line.
    public var logFormat: LogFormat
    /// Seconds SIGTERM waits for in-flight requests before cutting them off (`SHUTDOWN_TIMEOUT`).
    public var shutdownTimeout: Int
    /// Whether `GET /metrics` is served and requests are counted (`METRICS`).
    public var metrics: Bool
    /// Whether `GET /account`, the account page, is served (`ACCOUNT_PAGE`).
    public var accountPage: Bool
    /// Origins allowed cross-origin access with credentials (`CORS_ORIGINS`); empty: none.
    public var corsOrigins: [String]
    /// Seconds audit events are kept (`AUDIT_RETENTION`, 90 days).
    public var auditRetention: Int
    /// Where rate limits are counted (`RATE_LIMIT_STORE`): this process, or the database
    /// every instance shares.
    public var rateLimitStore: RateLimitStore
    /// Most revocations held in memory (`REVOCATION_CAPACITY`); past it the list fails
    /// safe (see `RevocationList`).
    public var revocationCapacity: Int
    /// How often the change table is polled (`REVOCATION_POLL_MS`, 500 ms).
    public var revocationPollInterval: Duration
    /// Whether the secrets were generated for this process (development without secrets).
    public var generatedSecrets: Bool

    init(
        gatehouse: GatehouseConfiguration, host: String = "127.0.0.1", port: Int = 8080,
        database: DatabaseLocation = .sqliteMemory, databasePoolSize: Int = ServerConfiguration.defaultPoolSize,
        databaseTimeout: Int = 5, logLevel: Logger.Level = .info, corsOrigins: [String] = [],
        auditRetention: Int = ServerConfiguration.defaultAuditRetention, rateLimitStore: RateLimitStore = .memory,
        revocationCapacity: Int = ServerConfiguration.defaultRevocationCapacity,
        revocationPollInterval: Duration = .milliseconds(ServerConfiguration.defaultRevocationPollMilliseconds),
        generatedSecrets: Bool = false, logFormat: LogFormat = .text, shutdownTimeout: Int = 10, metrics: Bool = true,
        accountPage: Bool = true
    ) {
        self.metrics = metrics
        self.accountPage = accountPage
        self.logFormat = logFormat
        self.shutdownTimeout = shutdownTimeout
        self.revocationCapacity = revocationCapacity
        self.revocationPollInterval = revocationPollInterval
        self.auditRetention = auditRetention
        self.rateLimitStore = rateLimitStore
        self.gatehouse = gatehouse
        self.host = host
        self.port = port
        self.database = database
        self.databasePoolSize = databasePoolSize
        self.databaseTimeout = databaseTimeout
        self.logLevel = logLevel
        self.corsOrigins = corsOrigins
        self.generatedSecrets = generatedSecrets
    }

    /// Ninety days.
    public static let defaultAuditRetention = 90 * 86_400
    /// A million revocations in one access-token window (about 240 MB; README "Instant
    /// revocation").
    public static let defaultRevocationCapacity = 1_000_000
    /// Twice a second: a change reaches every instance within a second even with no
    /// notification at all.
    public static let defaultRevocationPollMilliseconds = 500

    /// Four connections per core: enough to keep the cores busy while some queries wait
    /// on disk or locks, small enough that a dozen instances fit PostgreSQL's default
    /// `max_connections` of 100.
    public static let defaultPoolSize = 4 * max(1, ProcessInfo.processInfo.activeProcessorCount)

    public var description: String {
        "ServerConfiguration(host: \(host), port: \(port), database: \(database.redacted), "
            + "databasePoolSize: \(databasePoolSize), databaseTimeout: \(databaseTimeout)s, auditRetention: \(auditRetention)s, rateLimitStore: \(rateLimitStore.rawValue), revocationCapacity: \(revocationCapacity), revocationPollInterval: \(revocationPollInterval), logLevel: \(logLevel), logFormat: \(logFormat.rawValue), shutdownTimeout: \(shutdownTimeout)s, metrics: \(metrics ? "on" : "off"), accountPage: \(accountPage ? "on" : "off"), corsOrigins: \(corsOrigins), \(gatehouse))"
    }
}

extension ServerConfiguration {
    /// Opens and migrates the configured database with the configured pool and timeout.
    func openDatabase(logger: Logger) async throws -> Databases {
        try await DatabaseSetup.openMigrated(database, poolSize: databasePoolSize, timeout: databaseTimeout, logger: logger)
    }

    /// The database `serve` runs on (see `DatabaseSetup.openServing`).
    func openServingDatabase(logger: Logger) async throws -> ServingDatabase {
        try await DatabaseSetup.openServing(database, poolSize: databasePoolSize, timeout: databaseTimeout, logger: logger)
    }
}

/// `RATE_LIMIT_STORE`.
public enum RateLimitStore: String, Sendable {
    /// Each instance counts for itself (the default).
    case memory
    /// Counted in the database, shared by every instance (`DatabaseRateLimiter`).
    case database
}
