import Configuration
import Foundation
import HTTPTypes
import Gatehouse
import Logging
import Testing

@testable import GatehouseServer

@Suite struct ConfigurationTests {
    static let access = "a-very-long-access-secret-0123456789"
    static let refresh = "a-very-long-refresh-secret-0123456789"

    func load(_ variables: [String: String], dotEnv: [String: String] = [:], requireSecrets: Bool = true) throws(ConfigurationErrors) -> ServerConfiguration {
        try EnvironmentLoader(environment: variables, dotEnv: dotEnv).load(requireSecrets: requireSecrets)
    }

    func problems(_ variables: [String: String]) -> [ConfigurationError] {
        do {
            _ = try load(variables)
            return []
        } catch {
            return error.errors
        }
    }

    @Test func defaultsMatchTheSpecification() throws {
        let configuration = try load(["JWT_ACCESS_SECRET": Self.access, "JWT_REFRESH_SECRET": Self.refresh])
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 8080)
        #expect(configuration.database == .sqliteFile("gatehouse.sqlite"))
        #expect(configuration.logLevel == .info)
        #expect(configuration.generatedSecrets == false)
        #expect(configuration.accountPage)
        #expect(configuration.metrics)
        #expect(configuration.logFormat == .text)
        #expect(configuration.shutdownTimeout == 10)
        #expect(configuration.gatehouse.algorithm == .hs256)
        #expect(configuration.gatehouse.verifiedTokenCacheCapacity == 20_000)
        let settings = configuration.gatehouse
        #expect(settings.environment == .development)
        #expect(settings.accessTokenTTL == 900)
        #expect(settings.refreshTokenTTL == 604_800)
        #expect(settings.issuer == "gatehouse")
        #expect(settings.audience == nil)
        #expect(settings.bcryptCost == 12)
        #expect(settings.refreshReuseInterval == 10)
        #expect(settings.clockSkew == 30)
        #expect(settings.secureCookies == false)
        #expect(settings.rateLimits == RateLimits(
            login: RateLimit(10, per: 60), register: RateLimit(20, per: 3_600), refresh: RateLimit(60, per: 60),
            loginFailuresPerAccount: RateLimit(5, per: 900)
        ))
        #expect(settings.trustedProxies == .none)
        #expect(settings.passwordHashQueue == nil)
        #expect(configuration.corsOrigins == [])
    }

    /// The operations switches of SPEC.md §3.8 and §3.9, read from the environment.
    @Test func operationsSettingsAreRead() throws {
        let configuration = try load([
            "JWT_ACCESS_SECRET": Self.access, "JWT_REFRESH_SECRET": Self.refresh, "METRICS": "OFF", "ACCOUNT_PAGE": "off",
            "LOG_FORMAT": "JSON", "SHUTDOWN_TIMEOUT": "2m",
        ])
        #expect(!configuration.metrics)
        #expect(!configuration.accountPage)
        #expect(configuration.logFormat == .json)
        #expect(configuration.shutdownTimeout == 120)
        let on = try load(["JWT_ACCESS_SECRET": Self.access, "JWT_REFRESH_SECRET": Self.refresh, "METRICS": "on", "ACCOUNT_PAGE": "On"])
        #expect(on.metrics && on.accountPage)
        #expect(problems(["ACCOUNT_PAGE": "1", "METRICS": "true"]).map(\.variable).filter { $0 == "ACCOUNT_PAGE" || $0 == "METRICS" }
            == ["METRICS", "ACCOUNT_PAGE"])
    }

    @Test func abuseSettingsAreRead() throws {
        let configuration = try load([
            "RATE_LIMIT_LOGIN": "3/2s", "RATE_LIMIT_REGISTER": "off", "RATE_LIMIT_REFRESH": "100/1h",
            "LOGIN_FAILURES_PER_ACCOUNT": "OFF", "TRUST_PROXY": "true",
            "CORS_ORIGINS": "https://app.example.com, http://localhost:3000/,,https://APP.example.com",
        ])
        let settings = configuration.gatehouse
        #expect(settings.rateLimits == RateLimits(
            login: RateLimit(3, per: 2), register: nil, refresh: RateLimit(100, per: 3_600), loginFailuresPerAccount: nil
        ))
        #expect(settings.trustedProxies == .hops(1))
        #expect(configuration.corsOrigins == ["https://app.example.com", "http://localhost:3000"])
        #expect(try load(["TRUST_PROXY": "FALSE"]).gatehouse.trustedProxies == .none)
    }

    @Test func everyVariableIsRead() throws {
        let configuration = try load([
            "APP_ENV": "production", "HOST": "0.0.0.0", "PORT": "9000", "DATABASE_URL": "sqlite::memory:",
            "JWT_ACCESS_SECRET": Self.access, "JWT_REFRESH_SECRET": Self.refresh, "JWT_ACCESS_TTL": "5m",
            "JWT_REFRESH_TTL": "30d", "JWT_ISSUER": "auth.example.com", "JWT_AUDIENCE": "api.example.com",
            "BCRYPT_COST": "11", "REFRESH_REUSE_INTERVAL": "0", "LOG_LEVEL": "debug",
        ])
        #expect(configuration.host == "0.0.0.0")
        #expect(configuration.port == 9000)
        #expect(configuration.database == .sqliteMemory)
        #expect(configuration.logLevel == .debug)
        let settings = configuration.gatehouse
        #expect(settings.environment == .production)
        #expect(settings.secureCookies)
        #expect(settings.accessTokenTTL == 300)
        #expect(settings.refreshTokenTTL == 30 * 86_400)
        #expect(settings.issuer == "auth.example.com")
        #expect(settings.audience == "api.example.com")
        #expect(settings.bcryptCost == 11)
        #expect(settings.refreshReuseInterval == 0)
        #expect(settings.accessSecret == Self.access)
        #expect(settings.refreshSecret == Self.refresh)
    }

    @Test(arguments: [
        ("postgres://app:pw@db.example.com:6543/gate", PostgresLocation(
            host: "db.example.com", port: 6543, username: "app", password: "pw", database: "gate", sslMode: .prefer, schema: nil
        )),
        ("postgresql://app@localhost/gate?sslmode=disable", PostgresLocation(
            host: "localhost", port: 5432, username: "app", password: nil, database: "gate", sslMode: .disable, schema: nil
        )),
        ("postgres://app:p%40ss%3Aword@10.0.0.5/gate?sslmode=require&schema=auth", PostgresLocation(
            host: "10.0.0.5", port: 5432, username: "app", password: "p@ss:word", database: "gate", sslMode: .require, schema: "auth"
        )),
        ("postgres://app:pw@db/gate?sslmode=verify-full", PostgresLocation(
            host: "db", port: 5432, username: "app", password: "pw", database: "gate", sslMode: .verifyFull, schema: nil
        )),
    ])
    func postgresURLsParse(url: String, expected: PostgresLocation) throws {
        #expect(try DatabaseLocation.parse(url) == .postgres(expected))
    }

    @Test func poolAndTimeoutAreRead() throws {
        let configuration = try load(["DATABASE_POOL_SIZE": "3", "DATABASE_TIMEOUT": "2s"])
        #expect(configuration.databasePoolSize == 3)
        #expect(configuration.databaseTimeout == 2)
        let defaults = try load([:])
        #expect(defaults.databasePoolSize == ServerConfiguration.defaultPoolSize)
        #expect(defaults.databaseTimeout == 5)
    }

    @Test func auditRetentionIsADuration() throws {
        #expect(try load([:]).auditRetention == 90 * 86_400)
        #expect(try load(["AUDIT_RETENTION": "30d"]).auditRetention == 30 * 86_400)
        #expect(try load(["AUDIT_RETENTION": "12h"]).auditRetention == 12 * 3_600)
    }

    @Test func theDescriptionNeverShowsTheDatabasePassword() throws {
        let configuration = try load(["DATABASE_URL": "postgres://app:hunter2hunter2@db/app"])
        #expect(!configuration.description.contains("hunter2hunter2"))
        #expect(configuration.description.contains("postgres://app:<redacted>@db:5432/app"))
    }

    @Test func realEnvironmentWinsOverDotEnv() throws {
        let configuration = try load(
            ["PORT": "7000", "JWT_ACCESS_SECRET": Self.access, "JWT_REFRESH_SECRET": Self.refresh],
            dotEnv: ["PORT": "6000", "JWT_ISSUER": "from-dotenv"]
        )
        #expect(configuration.port == 7000)
        #expect(configuration.gatehouse.issuer == "from-dotenv")
    }

    @Test func developmentWithoutSecretsGeneratesDistinctOnes() throws {
        let configuration = try load([:])
        #expect(configuration.generatedSecrets)
        #expect(configuration.gatehouse.accessSecret.count == 128)
        #expect(configuration.gatehouse.accessSecret != configuration.gatehouse.refreshSecret)
        #expect(try load([:]).gatehouse.accessSecret != configuration.gatehouse.accessSecret)
    }

    static let invalid: [(variables: [String: String], variable: String, secret: String?)] = [
        (["APP_ENV": "staging"], "APP_ENV", nil),
        (["PORT": "http"], "PORT", nil),
        (["PORT": "70000"], "PORT", nil),
        (["PORT": "-1"], "PORT", nil),
        (["DATABASE_URL": "mysql://root:hunter2hunter2@db/app"], "DATABASE_URL", "hunter2hunter2"),
        (["DATABASE_URL": "postgres://app:hunter2hunter2@db:5432/app?sslmode=maybe"], "DATABASE_URL", "hunter2hunter2"),
        (["DATABASE_URL": "postgres://app:hunter2hunter2@db:5432"], "DATABASE_URL", "hunter2hunter2"),
        (["DATABASE_URL": "postgres://:hunter2hunter2@db/app"], "DATABASE_URL", "hunter2hunter2"),
        (["DATABASE_URL": "postgres://app:hunter2hunter2@db:99999/app"], "DATABASE_URL", "hunter2hunter2"),
        (["DATABASE_URL": "postgres://app:hunter2hunter2@db/app?application_name=x"], "DATABASE_URL", "hunter2hunter2"),
        (["DATABASE_URL": "postgres://app:hunter2hunter2@db/app?schema=Robert%27);DROP"], "DATABASE_URL", "hunter2hunter2"),
        (["DATABASE_POOL_SIZE": "0"], "DATABASE_POOL_SIZE", nil),
        (["DATABASE_POOL_SIZE": "many"], "DATABASE_POOL_SIZE", nil),
        (["DATABASE_TIMEOUT": "0s"], "DATABASE_TIMEOUT", nil),
        (["DATABASE_TIMEOUT": "1h"], "DATABASE_TIMEOUT", nil),
        (["AUDIT_RETENTION": "0"], "AUDIT_RETENTION", nil),
        (["AUDIT_RETENTION": "forever"], "AUDIT_RETENTION", nil),
        (["DATABASE_URL": "sqlite://"], "DATABASE_URL", nil),
        (["JWT_ACCESS_SECRET": "short-secret-value"], "JWT_ACCESS_SECRET", "short-secret-value"),
        (["JWT_REFRESH_SECRET": "another-short-one"], "JWT_REFRESH_SECRET", "another-short-one"),
        (["JWT_ACCESS_SECRET": access, "JWT_REFRESH_SECRET": access], "JWT_REFRESH_SECRET", access),
        (["JWT_ACCESS_TTL": "15 minutes"], "JWT_ACCESS_TTL", nil),
        (["JWT_ACCESS_TTL": "0"], "JWT_ACCESS_TTL", nil),
        (["JWT_REFRESH_TTL": "7w"], "JWT_REFRESH_TTL", nil),
        (["JWT_REFRESH_TTL": "-7d"], "JWT_REFRESH_TTL", nil),
        (["REFRESH_REUSE_INTERVAL": "soon"], "REFRESH_REUSE_INTERVAL", nil),
        (["BCRYPT_COST": "3"], "BCRYPT_COST", nil),
        (["BCRYPT_COST": "32"], "BCRYPT_COST", nil),
        (["BCRYPT_COST": "twelve"], "BCRYPT_COST", nil),
        (["APP_ENV": "production", "BCRYPT_COST": "9", "JWT_ACCESS_SECRET": access, "JWT_REFRESH_SECRET": refresh], "BCRYPT_COST", nil),
        (["APP_ENV": "production", "JWT_REFRESH_SECRET": refresh], "JWT_ACCESS_SECRET", refresh),
        (["APP_ENV": "production", "JWT_ACCESS_SECRET": access], "JWT_REFRESH_SECRET", access),
        (["LOG_LEVEL": "verbose"], "LOG_LEVEL", nil),
        (["RATE_LIMIT_LOGIN": "10"], "RATE_LIMIT_LOGIN", nil),
        (["RATE_LIMIT_LOGIN": "0/1m"], "RATE_LIMIT_LOGIN", nil),
        (["RATE_LIMIT_REGISTER": "20/1y"], "RATE_LIMIT_REGISTER", nil),
        (["RATE_LIMIT_REFRESH": "disabled"], "RATE_LIMIT_REFRESH", nil),
        (["LOGIN_FAILURES_PER_ACCOUNT": "5/0s"], "LOGIN_FAILURES_PER_ACCOUNT", nil),
        (["TRUST_PROXY": "yes please"], "TRUST_PROXY", nil),
        (["TRUST_PROXY": "101"], "TRUST_PROXY", nil),
        (["TRUST_PROXY": "10.0.0.0/8, 10.0.0.0/99"], "TRUST_PROXY", nil),
        (["PASSWORD_HASH_QUEUE": "0"], "PASSWORD_HASH_QUEUE", nil),
        (["PASSWORD_HASH_QUEUE": "100001"], "PASSWORD_HASH_QUEUE", nil),
        (["PASSWORD_HASH_QUEUE": "lots"], "PASSWORD_HASH_QUEUE", nil),
        (["CORS_ORIGINS": "*"], "CORS_ORIGINS", nil),
        (["CORS_ORIGINS": "https://ok.example, https://bad.example/path"], "CORS_ORIGINS", nil),
    ]

    @Test(arguments: invalid)
    func invalidValueNamesTheVariableAndHidesTheValue(variables: [String: String], variable: String, secret: String?) {
        let found = problems(variables)
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.variable == variable)
        let text = found.map(\.description).joined(separator: "\n")
        #expect(text.hasPrefix(variable))
        if let secret {
            #expect(!text.contains(secret))
        }
    }

    @Test func proxyAndHashQueueSettingsAreRead() throws {
        #expect(try load(["TRUST_PROXY": "2"]).gatehouse.trustedProxies == .hops(2))
        #expect(try load(["TRUST_PROXY": "0"]).gatehouse.trustedProxies == TrustedProxies.none)
        let networks = try load(["TRUST_PROXY": "10.0.0.0/8, 2001:db8::/32 ,192.0.2.7"]).gatehouse.trustedProxies
        #expect(networks.description == "10.0.0.0/8,2001:db8::/32,192.0.2.7/32")
        #expect(try load(["PASSWORD_HASH_QUEUE": "40"]).gatehouse.passwordHashQueue == 40)
    }

    /// The library's initialiser applies the loader's rules with the loader's messages
    /// (SPEC.md §1), so an embedding cannot run on settings the server refuses.
    @Test func theLibraryRefusesWhatTheServerRefuses() {
        func problems(_ make: () throws(ConfigurationErrors) -> GatehouseConfiguration) -> [String] {
            do {
                _ = try make()
                return []
            } catch {
                return error.errors.map(\.description)
            }
        }
        let long = Self.access
        #expect(problems { () throws(ConfigurationErrors) in try GatehouseConfiguration(accessSecret: "", refreshSecret: Self.refresh) }
            == ["JWT_ACCESS_SECRET must be at least 32 characters"])
        #expect(problems { () throws(ConfigurationErrors) in try GatehouseConfiguration(accessSecret: long, refreshSecret: "short") }
            == ["JWT_REFRESH_SECRET must be at least 32 characters"])
        #expect(problems { () throws(ConfigurationErrors) in try GatehouseConfiguration(accessSecret: long, refreshSecret: long) }
            == ["JWT_REFRESH_SECRET must differ from JWT_ACCESS_SECRET"])
        #expect(problems { () throws(ConfigurationErrors) in
            try GatehouseConfiguration(accessSecret: long, refreshSecret: Self.refresh, bcryptCost: 4)
        } == ["BCRYPT_COST must be at least 10 when APP_ENV=production"])
        #expect(problems { () throws(ConfigurationErrors) in
            try GatehouseConfiguration(accessSecret: long, refreshSecret: Self.refresh, accessTokenTTL: 0, passwordHashQueue: 0)
        }.count == 2)
        #expect(problems { () throws(ConfigurationErrors) in
            try GatehouseConfiguration(environment: .development, accessSecret: long, refreshSecret: Self.refresh, bcryptCost: 4)
        } == [])
        // The same messages as the environment loader gives.
        #expect(self.problems(["JWT_ACCESS_SECRET": "short"]).map(\.description) == ["JWT_ACCESS_SECRET must be at least 32 characters"])
    }

    /// swift-configuration's `ConfigReader`, as the Hummingbird template reads settings:
    /// the same variables, defaults and validation as the server (which reads its own
    /// environment through the same code).
    @Test func theLibraryReadsAConfigReader() throws {
        let environment = EnvironmentVariablesProvider(environmentVariables: [
            "JWT_ACCESS_SECRET": Self.access, "JWT_REFRESH_SECRET": Self.refresh, "BCRYPT_COST": "11", "TRUST_PROXY": "2",
            "RATE_LIMIT_LOGIN": "3/2s", "JWT_ACCESS_TTL": "5m", "PASSWORD_HASH_QUEUE": "9", "JWT_AUDIENCE": "api",
        ])
        let settings = try GatehouseConfiguration(reader: ConfigReader(provider: environment))
        #expect(settings.environment == .development)
        #expect(settings.bcryptCost == 11)
        #expect(settings.trustedProxies == .hops(2))
        #expect(settings.rateLimits.login == RateLimit(3, per: 2))
        #expect(settings.accessTokenTTL == 300)
        #expect(settings.passwordHashQueue == 9)
        #expect(settings.audience == "api")
        #expect(settings.accessSecret == Self.access)

        // Any provider: keys are the variable names, lower-cased, with dots.
        let memory = InMemoryProvider(values: [
            "jwt.access.secret": ConfigValue(.string(Self.access), isSecret: true),
            "jwt.refresh.secret": ConfigValue(.string(Self.refresh), isSecret: true),
            "app.env": "production", "bcrypt.cost": "10",
        ])
        let production = try GatehouseConfiguration(reader: ConfigReader(provider: memory))
        #expect(production.environment == .production)
        #expect(production.bcryptCost == 10)

        // Typed values (as a JSON or YAML provider gives them) are read as their text.
        let typed = InMemoryProvider(values: [
            "jwt.access.secret": ConfigValue(.string(Self.access), isSecret: true),
            "jwt.refresh.secret": ConfigValue(.string(Self.refresh), isSecret: true),
            "bcrypt.cost": 14, "jwt.access.ttl": 60, "trust.proxy": ConfigValue(.stringArray(["10.0.0.0/8", "192.0.2.7"]), isSecret: false),
        ])
        let read = try GatehouseConfiguration(reader: ConfigReader(provider: typed))
        #expect(read.bcryptCost == 14)
        #expect(read.accessTokenTTL == 60)
        #expect(read.trustedProxies.description == "10.0.0.0/8,192.0.2.7/32")
    }

    /// A typed value that is not a valid setting is an error, never the default.
    @Test func typedValuesThatDoNotFitAreErrors() {
        let typed = InMemoryProvider(values: [
            "jwt.access.secret": ConfigValue(.string(Self.access), isSecret: true),
            "jwt.refresh.secret": ConfigValue(.string(Self.refresh), isSecret: true),
            "jwt.access.ttl": 60.5, "bcrypt.cost": 40, "jwt.issuer": ConfigValue(.bytes([1, 2, 3]), isSecret: false),
        ])
        do {
            _ = try GatehouseConfiguration(reader: ConfigReader(provider: typed))
            Issue.record("accepted")
        } catch {
            #expect(Set(error.errors.map(\.variable)) == ["JWT_ACCESS_TTL", "BCRYPT_COST", "JWT_ISSUER"])
        }
    }

    /// An embedding without secrets is refused unless it asks for random ones.
    @Test func anEmbeddingWithoutSecretsMustAskForRandomOnes() throws {
        let empty = ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: [:]))
        do {
            _ = try GatehouseConfiguration(reader: empty)
            Issue.record("accepted")
        } catch {
            #expect(error.errors.map(\.description) == ["JWT_ACCESS_SECRET is required", "JWT_REFRESH_SECRET is required"])
        }
        let generated = try GatehouseConfiguration(reader: empty, generateMissingSecrets: true)
        #expect(generated.accessSecret.count == 128)
        #expect(generated.accessSecret != generated.refreshSecret)
    }

    /// A bad value is an error naming its variable, never a silent default (what
    /// swift-configuration's typed getters with `default:` would do).
    @Test(arguments: [
        (["BCRYPT_COST": "twelve"], "BCRYPT_COST must be a whole number from 4 to 31"),
        (["JWT_ACCESS_TTL": "15 minutes"], "JWT_ACCESS_TTL must be a duration greater than zero such as 900, 900s, 15m, 12h or 7d"),
        (["TRUST_PROXY": "yes"], "TRUST_PROXY " + TrustedProxies.formatProblem),
        (["APP_ENV": "staging"], "APP_ENV must be development or production"),
        (["JWT_ACCESS_SECRET": "short"], "JWT_ACCESS_SECRET must be at least 32 characters"),
        (["APP_ENV": "production", "JWT_ACCESS_SECRET": ""], "JWT_ACCESS_SECRET is required when APP_ENV=production"),
    ])
    func aConfigReaderWithABadValueNamesIt(changes: [String: String], message: String) {
        var variables = ["JWT_ACCESS_SECRET": Self.access, "JWT_REFRESH_SECRET": Self.refresh]
        variables.merge(changes) { $1 }
        let reader = ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: variables))
        do {
            _ = try GatehouseConfiguration(reader: reader)
            Issue.record("accepted \(changes)")
        } catch {
            #expect(error.errors.map(\.description) == [message])
            #expect(!error.description.contains(Self.access))
        }
    }

    /// An embedding that does not say otherwise is in production: `Secure` cookies.
    @Test func theEmbeddingDefaultIsProduction() throws {
        let settings = try GatehouseConfiguration(accessSecret: Self.access, refreshSecret: Self.refresh)
        #expect(settings.environment == .production)
        #expect(settings.secureCookies)
        let cookie = RefreshCookie(path: "/api/v1/auth/refresh", maxAge: settings.refreshTokenTTL, secure: settings.secureCookies)
        #expect(cookie.setting("t").hasSuffix("; Secure"))
    }

    @Test func everyBadVariableIsReported() {
        let found = problems(["PORT": "x", "BCRYPT_COST": "2", "LOG_LEVEL": "loud"])
        #expect(Set(found.map(\.variable)) == ["PORT", "BCRYPT_COST", "LOG_LEVEL"])
    }

    @Test func commandsThatSignNothingDoNotNeedProductionSecrets() throws {
        let configuration = try load(["APP_ENV": "production"], requireSecrets: false)
        #expect(configuration.gatehouse.environment == .production)
    }

    @Test func descriptionRedactsSecrets() throws {
        let configuration = try load(["JWT_ACCESS_SECRET": Self.access, "JWT_REFRESH_SECRET": Self.refresh])
        #expect(!configuration.description.contains(Self.access))
        #expect(!configuration.description.contains(Self.refresh))
        #expect(configuration.description.contains("<redacted>"))
    }

    @Test(arguments: [
        ("900", 900), ("900s", 900), ("15m", 900), ("12h", 43_200), ("7d", 604_800), ("0", 0),
    ])
    func durationsParse(text: String, seconds: Int) {
        #expect(TimeSpan.seconds(from: text) == seconds)
    }

    @Test(arguments: ["", "m", "15 m", "1.5h", "7w", "-5", "+5", "99999999999d", "١٢"])
    func badDurationsAreRefused(text: String) {
        #expect(TimeSpan.seconds(from: text) == nil)
    }

    @Test func dotEnvSyntax() throws {
        let values = try DotEnv.parse("""
            # comment
            export PORT=9000
            JWT_ISSUER="quoted # not a comment"
            JWT_AUDIENCE='single'
            LOG_LEVEL=debug # trailing comment

            HOST = 0.0.0.0
            """)
        #expect(values == [
            "PORT": "9000", "JWT_ISSUER": "quoted # not a comment", "JWT_AUDIENCE": "single",
            "LOG_LEVEL": "debug", "HOST": "0.0.0.0",
        ])
        #expect(throws: ConfigurationError.self) { try DotEnv.parse("NOT A LINE") }
        #expect(throws: ConfigurationError.self) { try DotEnv.parse("KEY=\"unterminated") }
    }
}
