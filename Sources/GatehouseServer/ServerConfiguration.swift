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
    /// Log level.
    public var logLevel: Logger.Level
    /// Origins allowed cross-origin access with credentials (`CORS_ORIGINS`); empty: none.
    public var corsOrigins: [String]
    /// Whether the secrets were generated for this process (development without secrets).
    public var generatedSecrets: Bool

    init(
        gatehouse: GatehouseConfiguration, host: String = "127.0.0.1", port: Int = 8080,
        database: DatabaseLocation = .sqliteMemory, logLevel: Logger.Level = .info,
        corsOrigins: [String] = [], generatedSecrets: Bool = false
    ) {
        self.gatehouse = gatehouse
        self.host = host
        self.port = port
        self.database = database
        self.logLevel = logLevel
        self.corsOrigins = corsOrigins
        self.generatedSecrets = generatedSecrets
    }

    public var description: String {
        "ServerConfiguration(host: \(host), port: \(port), database: \(database.redacted), logLevel: \(logLevel), corsOrigins: \(corsOrigins), \(gatehouse))"
    }
}

extension DatabaseLocation {
    var redacted: String {
        switch self {
        case .sqliteFile(let path): "sqlite://\(path)"
        case .sqliteMemory: "sqlite::memory:"
        }
    }
}
