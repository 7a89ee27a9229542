import Foundation
import Gatehouse
import Logging

/// Builds a `ServerConfiguration` from `.env` and the process environment (SPEC.md §1).
///
/// Every variable is checked and every problem reported, one line each, without ever
/// echoing a value (secrets and database URLs may be among them).
struct EnvironmentLoader {
    /// The merged variables; real environment variables win over `.env`. An empty value
    /// counts as unset.
    let variables: [String: String]

    init(environment: [String: String], dotEnv: [String: String] = [:]) {
        self.variables = dotEnv.merging(environment) { _, real in real }.filter { !$0.value.isEmpty }
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
        var errors: [ConfigurationError] = []
        func check<T>(_ body: () throws(ConfigurationError) -> T) -> T? {
            do { return try body() } catch {
                errors.append(error)
                return nil
            }
        }

        let environment = check { () throws(ConfigurationError) in try appEnvironment() } ?? .development
        let production = environment == .production
        let host = variables["HOST"] ?? "127.0.0.1"
        let port = check { () throws(ConfigurationError) in try integer("PORT", default: 8080, in: 0...65_535) }
        let database = check { () throws(ConfigurationError) in
            try DatabaseLocation.parse(variables["DATABASE_URL"] ?? "sqlite://gatehouse.sqlite")
        }
        let poolSize = check { () throws(ConfigurationError) in
            try integer("DATABASE_POOL_SIZE", default: ServerConfiguration.defaultPoolSize, in: 1...1_000)
        }
        let databaseTimeout = check { () throws(ConfigurationError) in try databaseTimeoutSeconds() }
        let accessTTL = check { () throws(ConfigurationError) in try duration("JWT_ACCESS_TTL", default: 15 * 60, allowZero: false) }
        let refreshTTL = check { () throws(ConfigurationError) in try duration("JWT_REFRESH_TTL", default: 7 * 86_400, allowZero: false) }
        let reuse = check { () throws(ConfigurationError) in try duration("REFRESH_REUSE_INTERVAL", default: 10, allowZero: true) }
        let cost = check { () throws(ConfigurationError) in try bcryptCost() }
        let logLevel = check { () throws(ConfigurationError) in try level() }
        let limits = check { () throws(ConfigurationError) in try rateLimits() }
        let trustProxy = check { () throws(ConfigurationError) in try trustedProxies() }
        let corsOrigins = check { () throws(ConfigurationError) in try origins() }
        let issuer = variables["JWT_ISSUER"] ?? "gatehouse"
        let audience = variables["JWT_AUDIENCE"]

        let hashQueue = check { () throws(ConfigurationError) -> Int? in
            guard variables["PASSWORD_HASH_QUEUE"] != nil else { return nil }
            return try integer("PASSWORD_HASH_QUEUE", default: 0, in: 1...GatehouseConfiguration.maximumPasswordHashQueue)
        }

        var accessSecret = variables["JWT_ACCESS_SECRET"]
        var refreshSecret = variables["JWT_REFRESH_SECRET"]
        if production && requireSecrets {
            for (name, secret) in [("JWT_ACCESS_SECRET", accessSecret), ("JWT_REFRESH_SECRET", refreshSecret)] where secret == nil {
                errors.append(ConfigurationError(name, "is required when APP_ENV=production"))
            }
        }
        let generated = accessSecret == nil || refreshSecret == nil
        if accessSecret == nil { accessSecret = SecretGenerator.hex() }
        if refreshSecret == nil { refreshSecret = SecretGenerator.hex() }

        // The library's own rules (secret lengths, a cost too low for production, …), so
        // the server and an embedding refuse exactly the same settings. Settings that did
        // not parse take their defaults here and are reported once, by the parse.
        let gatehouse = GatehouseConfiguration(
            unchecked: environment, accessSecret: accessSecret!, refreshSecret: refreshSecret!,
            accessTokenTTL: accessTTL ?? 900, refreshTokenTTL: refreshTTL ?? 604_800, issuer: issuer, audience: audience,
            bcryptCost: cost ?? 12, refreshReuseInterval: reuse ?? 10, rateLimits: limits ?? RateLimits(),
            trustedProxies: trustProxy ?? .none, passwordHashQueue: hashQueue ?? nil
        )
        for problem in gatehouse.problems where !errors.contains(where: { $0.variable == problem.variable }) {
            errors.append(problem)
        }
        guard errors.isEmpty, let port, let database, let logLevel, let corsOrigins, let poolSize, let databaseTimeout else {
            throw ConfigurationErrors(errors: errors)
        }
        return ServerConfiguration(
            gatehouse: gatehouse, host: host, port: port, database: database, databasePoolSize: poolSize,
            databaseTimeout: databaseTimeout, logLevel: logLevel,
            corsOrigins: corsOrigins, generatedSecrets: generated
        )
    }

    private func appEnvironment() throws(ConfigurationError) -> AppEnvironment {
        guard let raw = variables["APP_ENV"] else { return .development }
        guard let environment = AppEnvironment(rawValue: raw) else {
            throw ConfigurationError("APP_ENV", "must be development or production")
        }
        return environment
    }

    private func integer(_ name: String, default value: Int, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let raw = variables[name] else { return value }
        guard raw.count <= 10, raw.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(raw), range.contains(number) else {
            throw ConfigurationError(name, "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    private func duration(_ name: String, default value: Int, allowZero: Bool) throws(ConfigurationError) -> Int {
        guard let raw = variables[name] else { return value }
        guard let seconds = TimeSpan.seconds(from: raw), allowZero || seconds > 0 else {
            let floor = allowZero ? "" : " greater than zero"
            throw ConfigurationError(name, "must be a duration\(floor) such as 900, 900s, 15m, 12h or 7d")
        }
        return seconds
    }

    private func databaseTimeoutSeconds() throws(ConfigurationError) -> Int {
        guard let raw = variables["DATABASE_TIMEOUT"] else { return 5 }
        guard let seconds = TimeSpan.seconds(from: raw), (1...300).contains(seconds) else {
            throw ConfigurationError("DATABASE_TIMEOUT", "must be a duration from 1s to 5m, such as 5s")
        }
        return seconds
    }

    private func rateLimit(_ name: String, default value: RateLimit) throws(ConfigurationError) -> RateLimit? {
        guard let raw = variables[name] else { return value }
        if raw.lowercased() == "off" { return nil }
        guard let limit = RateLimit(parsing: raw) else {
            throw ConfigurationError(name, "must be N/DURATION (such as 10/1m, N from 1 to 1000000) or off")
        }
        return limit
    }

    private func rateLimits() throws(ConfigurationError) -> RateLimits {
        let defaults = RateLimits()
        return RateLimits(
            login: try rateLimit("RATE_LIMIT_LOGIN", default: defaults.login!),
            register: try rateLimit("RATE_LIMIT_REGISTER", default: defaults.register!),
            refresh: try rateLimit("RATE_LIMIT_REFRESH", default: defaults.refresh!),
            loginFailuresPerAccount: try rateLimit("LOGIN_FAILURES_PER_ACCOUNT", default: defaults.loginFailuresPerAccount!)
        )
    }

    private func trustedProxies() throws(ConfigurationError) -> TrustedProxies {
        guard let raw = variables["TRUST_PROXY"] else { return .none }
        guard let proxies = TrustedProxies(parsing: raw) else {
            throw ConfigurationError("TRUST_PROXY", TrustedProxies.formatProblem)
        }
        return proxies
    }

    private func origins() throws(ConfigurationError) -> [String] {
        guard let raw = variables["CORS_ORIGINS"] else { return [] }
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

    private func bcryptCost() throws(ConfigurationError) -> Int {
        try integer("BCRYPT_COST", default: 12, in: 4...31)
    }

    private func level() throws(ConfigurationError) -> Logger.Level {
        guard let raw = variables["LOG_LEVEL"] else { return .info }
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
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in String(format: "%02x", UInt8.random(in: .min ... .max, using: &generator)) }.joined()
    }
}
