import Configuration
import Foundation
import Gatehouse
import Logging

/// Builds a `ServerConfiguration` from `.env` and the process environment (SPEC.md §1).
///
/// Both go through one swift-configuration `ConfigReader` (the environment first, so it
/// wins; `.env` parsed by `DotEnv`, which understands quotes) and one code path: the
/// library's `GatehouseConfiguration.load(from:)` reads the library's variables, this
/// reads the server's own. Every variable is checked and every problem reported, one
/// line each, without ever echoing a value (secrets and database URLs may be among them).
struct EnvironmentLoader {
    let variables: ConfigurationVariables

    init(environment: [String: String], dotEnv: [String: String] = [:]) {
        let reader = ConfigReader(providers: [
            EnvironmentVariablesProvider(environmentVariables: environment),
            EnvironmentVariablesProvider(environmentVariables: dotEnv),
        ])
        self.variables = ConfigurationVariables(reader)
    }

    /// Reads `.env` in the working directory (if any) and the process environment.
    static func fromProcess() throws(ConfigurationErrors) -> EnvironmentLoader {
        var dotEnv: [String: String] = [:]
        let path = FileManager.default.currentDirectoryPath + "/.env"
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            do {
                dotEnv = try DotEnv.parse(text)
            } catch {
                throw ConfigurationErrors(errors: [error])
            }
        }
        return EnvironmentLoader(environment: ProcessInfo.processInfo.environment, dotEnv: dotEnv)
    }

    /// Loads the configuration. With `requireSecrets` false (commands that sign no
    /// tokens) missing secrets are generated even in production.
    func load(requireSecrets: Bool = true) throws(ConfigurationErrors) -> ServerConfiguration {
        let library = GatehouseConfiguration.load(from: variables, requireSecrets: requireSecrets)
        var errors = library.errors
            + variables.unreadable([
                "HOST", "PORT", "DATABASE_URL", "DATABASE_POOL_SIZE", "DATABASE_TIMEOUT", "LOG_LEVEL", "CORS_ORIGINS", "AUDIT_RETENTION", "RATE_LIMIT_STORE",
                "REVOCATION_CAPACITY", "REVOCATION_POLL_MS", "LOG_FORMAT", "SHUTDOWN_TIMEOUT", "METRICS", "ACCOUNT_PAGE",
            ])
        func check<T>(_ body: () throws(ConfigurationError) -> T) -> T? {
            do { return try body() } catch {
                errors.append(error)
                return nil
            }
        }
        let host = variables.string("HOST") ?? "127.0.0.1"
        let port = check { () throws(ConfigurationError) in try variables.integer("PORT", default: 8080, in: 0...65_535) }
        let database = check { () throws(ConfigurationError) in
            try DatabaseLocation.parse(variables.string("DATABASE_URL") ?? "sqlite://gatehouse.sqlite")
        }
        let poolSize = check { () throws(ConfigurationError) in
            try variables.integer("DATABASE_POOL_SIZE", default: ServerConfiguration.defaultPoolSize, in: 1...1_000)
        }
        let databaseTimeout = check { () throws(ConfigurationError) in try databaseTimeoutSeconds() }
        let logLevel = check { () throws(ConfigurationError) in try level() }
        let corsOrigins = check { () throws(ConfigurationError) in try origins() }
        let auditRetention = check { () throws(ConfigurationError) in
            try variables.duration("AUDIT_RETENTION", default: ServerConfiguration.defaultAuditRetention, allowZero: false)
        }
        let rateLimitStore = check { () throws(ConfigurationError) -> RateLimitStore in
            guard let raw = variables.string("RATE_LIMIT_STORE") else { return .memory }
            guard let store = RateLimitStore(rawValue: raw.lowercased()) else {
                throw ConfigurationError("RATE_LIMIT_STORE", "must be memory or database")
            }
            return store
        }
        let revocationCapacity = check { () throws(ConfigurationError) in
            try variables.integer("REVOCATION_CAPACITY", default: ServerConfiguration.defaultRevocationCapacity, in: 1_000...100_000_000)
        }
        let revocationPoll = check { () throws(ConfigurationError) in
            try variables.integer("REVOCATION_POLL_MS", default: ServerConfiguration.defaultRevocationPollMilliseconds, in: 10...1_000)
        }
        let logFormat = check { () throws(ConfigurationError) -> LogFormat in
            guard let raw = variables.string("LOG_FORMAT") else { return .text }
            guard let format = LogFormat(rawValue: raw.lowercased()) else { throw ConfigurationError("LOG_FORMAT", "must be text or json") }
            return format
        }
        let shutdownTimeout = check { () throws(ConfigurationError) -> Int in
            guard let raw = variables.string("SHUTDOWN_TIMEOUT") else { return 10 }
            guard let seconds = TimeSpan.seconds(from: raw), (0...3_600).contains(seconds) else {
                throw ConfigurationError("SHUTDOWN_TIMEOUT", "must be a duration from 0s to 1h, such as 10s")
            }
            return seconds
        }
        let metrics = check { () throws(ConfigurationError) in try variables.onOff("METRICS") }
        let accountPage = check { () throws(ConfigurationError) in try variables.onOff("ACCOUNT_PAGE") }
        guard errors.isEmpty, let gatehouse = library.configuration, let port, let database, let logLevel, let corsOrigins,
              let poolSize, let databaseTimeout, let auditRetention, let rateLimitStore, let revocationCapacity, let revocationPoll,
              let logFormat, let shutdownTimeout, let metrics, let accountPage
        else {
            throw ConfigurationErrors(errors: errors)
        }
        return ServerConfiguration(
            gatehouse: gatehouse, host: host, port: port, database: database, databasePoolSize: poolSize,
            databaseTimeout: databaseTimeout, logLevel: logLevel,
            corsOrigins: corsOrigins, auditRetention: auditRetention, rateLimitStore: rateLimitStore,
            revocationCapacity: revocationCapacity, revocationPollInterval: .milliseconds(revocationPoll),
            generatedSecrets: library.generatedSecrets, logFormat: logFormat, shutdownTimeout: shutdownTimeout, metrics: metrics,
            accountPage: accountPage
        )
    }

    private func databaseTimeoutSeconds() throws(ConfigurationError) -> Int {
        guard let raw = variables.string("DATABASE_TIMEOUT") else { return 5 }
        guard let seconds = TimeSpan.seconds(from: raw), (1...300).contains(seconds) else {
            throw ConfigurationError("DATABASE_TIMEOUT", "must be a duration from 1s to 5m, such as 5s")
        }
        return seconds
    }

    private func origins() throws(ConfigurationError) -> [String] {
        guard let raw = variables.string("CORS_ORIGINS") else { return [] }
        var origins: [String] = []
        for entry in raw.split(separator: ",") {
            let trimmed = entry.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            guard let origin = CORSOrigin.normalize(trimmed) else {
                throw ConfigurationError(
                    "CORS_ORIGINS", "must be a comma-separated list of origins such as https://app.example.com (scheme, host and optional port only)"
                )
            }
            if !origins.contains(origin) { origins.append(origin) }
        }
        return origins
    }

    private func level() throws(ConfigurationError) -> Logger.Level {
        guard let raw = variables.string("LOG_LEVEL") else { return .info }
        guard let level = Logger.Level(rawValue: raw.lowercased()) else {
            throw ConfigurationError("LOG_LEVEL", "must be one of trace, debug, info, notice, warning, error, critical")
        }
        return level
    }
}

/// Random secrets for `gatehouse secret` and for development without configured secrets.
enum SecretGenerator {
    /// `count` bytes from the system's CSPRNG, as lower-case hex.
    static func hex(bytes count: Int = 64) -> String {
        GatehouseConfiguration.randomSecret(bytes: count)
    }
}
