import Configuration
import Foundation

/// Settings read by their variable names of SPEC.md §1 (`JWT_ACCESS_SECRET`), from a
/// swift-configuration `ConfigReader` (the Hummingbird template's convention) or plain
/// values. The environment provider maps the key `jwt.access.secret` to the variable
/// `JWT_ACCESS_SECRET`, so keys here are the variable names lower-cased with dots.
///
/// Values are read as strings and parsed here, never through swift-configuration's
/// typed getters: those fall back to their default on a value that does not parse, and
/// a bad value must stop start-up naming its variable. An empty value counts as unset.
public struct ConfigurationVariables: Sendable {
    /// What a provider holds for one variable.
    enum Value {
        case missing
        case text(String)
        /// Present, but of a type that is not text, a number, a boolean or a list.
        case unreadable
    }

    private let lookup: @Sendable (String) -> Value

    /// Reads from `reader`; secrets are read as secrets (redacted in its access logs).
    /// A provider with typed values (an in-memory or file provider) may give numbers,
    /// booleans or string arrays: they are read as the text they stand for, so
    /// `bcrypt.cost: 14` is cost 14, and then parsed like any other value.
    public init(_ reader: ConfigReader) {
        self.lookup = { name in
            let key = ConfigKey(name.lowercased().split(separator: "_").map(String.init))
            let secret = ConfigurationVariables.secretNames.contains(name)
            if let text = reader.string(forKey: key, isSecret: secret) { return .text(text) }
            if let number = reader.int(forKey: key, isSecret: secret) { return .text(String(number)) }
            if let flag = reader.bool(forKey: key, isSecret: secret) { return .text(String(flag)) }
            if let number = reader.double(forKey: key, isSecret: secret) { return .text(String(number)) }
            if let list = reader.stringArray(forKey: key, isSecret: secret) { return .text(list.joined(separator: ",")) }
            // Present but of no type read above (bytes, say): reported, never a silent
            // default. swift-configuration's error type is not public, so "missing" is
            // recognised by its description; if that ever changed, every unset variable
            // would be reported and the configuration tests would say so.
            do {
                _ = try reader.requiredString(forKey: key, isSecret: secret)
                return .missing
            } catch where "\(error)".hasPrefix("Missing required config value") {
                return .missing
            } catch {
                return .unreadable
            }
        }
    }

    /// Reads from a dictionary of variables (tests, or values gathered elsewhere).
    public init(_ values: [String: String]) {
        self.lookup = { values[$0].map(Value.text) ?? .missing }
    }

    /// One problem for each of `names` whose value is present but cannot be read as text.
    public func unreadable(_ names: [String]) -> [ConfigurationError] {
        names.compactMap { name in
            guard case .unreadable = lookup(name) else { return nil }
            return ConfigurationError(name, "must be text, a number, a boolean or a list of text")
        }
    }

    /// The variables the library reads.
    static let libraryNames = [
        "APP_ENV", "JWT_ACCESS_SECRET", "JWT_REFRESH_SECRET", "JWT_ACCESS_TTL", "JWT_REFRESH_TTL", "JWT_ISSUER", "JWT_AUDIENCE",
        "BCRYPT_COST", "REFRESH_REUSE_INTERVAL", "RATE_LIMIT_LOGIN", "RATE_LIMIT_REGISTER", "RATE_LIMIT_REFRESH",
        "LOGIN_FAILURES_PER_ACCOUNT", "TRUST_PROXY", "PASSWORD_HASH_QUEUE", "JWT_ALGORITHM", "JWT_PRIVATE_KEY_FILE",
        "JWT_PREVIOUS_PUBLIC_KEY_FILES", "JWT_ACCESS_SECRET_PREVIOUS", "JWT_REFRESH_SECRET_PREVIOUS", "ACCESS_TOKEN_CACHE",
    ]

    /// Variables whose values are secrets.
    static let secretNames: Set<String> = [
        "JWT_ACCESS_SECRET", "JWT_REFRESH_SECRET", "JWT_ACCESS_SECRET_PREVIOUS", "JWT_REFRESH_SECRET_PREVIOUS", "DATABASE_URL",
    ]

    /// The raw value of `name`; `nil` when unset, empty or unreadable (see `unreadable`).
    public func string(_ name: String) -> String? {
        guard case .text(let value) = lookup(name), !value.isEmpty else { return nil }
        return value
    }

    /// A whole number in `range` (at most 10 ASCII digits), `defaultValue` when unset.
    public func integer(_ name: String, default defaultValue: Int, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let raw = string(name) else { return defaultValue }
        guard raw.count <= 10, raw.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(raw), range.contains(number) else {
            throw ConfigurationError(name, "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    /// `on` (the default, when unset) or `off`, in any letter case.
    public func onOff(_ name: String) throws(ConfigurationError) -> Bool {
        switch string(name)?.lowercased() {
        case nil, "on": return true
        case "off": return false
        default: throw ConfigurationError(name, "must be on or off")
        }
    }

    /// A duration (`900`, `900s`, `15m`, `12h`, `7d`) in seconds.
    public func duration(_ name: String, default defaultValue: Int, allowZero: Bool) throws(ConfigurationError) -> Int {
        guard let raw = string(name) else { return defaultValue }
        guard let seconds = TimeSpan.seconds(from: raw), allowZero || seconds > 0 else {
            let floor = allowZero ? "" : " greater than zero"
            throw ConfigurationError(name, "must be a duration\(floor) such as 900, 900s, 15m, 12h or 7d")
        }
        return seconds
    }

    /// The text of the file at the path `name` holds; keys are small, so more than 1 MiB
    /// is refused rather than read.
    public func keyFile(_ name: String, path: String) throws(ConfigurationError) -> String {
        // At most 1 MiB + 1 bytes are read, so `/dev/zero` is refused rather than read forever.
        guard let handle = FileHandle(forReadingAtPath: path), let data = try? handle.read(upToCount: (1 << 20) + 1) ?? Data() else {
            throw ConfigurationError(name, "names \(path), which cannot be read")
        }
        try? handle.close()
        guard data.count <= 1 << 20, let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError(name, "names \(path), which is not a PEM file")
        }
        return text
    }

    /// `N/DURATION` or `off` (`nil`).
    public func rateLimit(_ name: String, default defaultValue: RateLimit) throws(ConfigurationError) -> RateLimit? {
        guard let raw = string(name) else { return defaultValue }
        if raw.lowercased() == "off" { return nil }
        guard let limit = RateLimit(parsing: raw) else {
            throw ConfigurationError(name, "must be N/DURATION (such as 10/1m, N from 1 to 1000000) or off")
        }
        return limit
    }
}

extension GatehouseConfiguration {
    /// Reads and validates the configuration from `reader` with the variable names,
    /// defaults and messages of SPEC.md §1 and `gatehouse serve` (which reads its
    /// environment and `.env` through this same code). `APP_ENV` defaults to
    /// `development` here, as for the server. Missing secrets are an error in
    /// production. In development they are required too, unless `generateMissingSecrets`
    /// asks for random ones for this process (tokens then do not survive a restart and
    /// differ between instances: for a laptop only).
    public init(reader: ConfigReader, generateMissingSecrets: Bool = false) throws(ConfigurationErrors) {
        let loaded = Self.load(from: ConfigurationVariables(reader), requireSecrets: true, generateMissingSecrets: generateMissingSecrets)
        guard let configuration = loaded.configuration, loaded.errors.isEmpty else {
            throw ConfigurationErrors(errors: loaded.errors)
        }
        self = configuration
    }

    /// The library's settings from `variables`, every problem at once. With
    /// `requireSecrets` false (commands that sign no tokens) missing secrets are generated
    /// even in production. `generatedSecrets` says whether any secret was generated.
    public static func load(
        from variables: ConfigurationVariables, requireSecrets: Bool = true, generateMissingSecrets: Bool = true
    ) -> (configuration: GatehouseConfiguration?, generatedSecrets: Bool, errors: [ConfigurationError]) {
        var errors = variables.unreadable(ConfigurationVariables.libraryNames)
        func check<T>(_ body: () throws(ConfigurationError) -> T) -> T? {
            do { return try body() } catch {
                errors.append(error)
                return nil
            }
        }
        let environment = check { () throws(ConfigurationError) -> AppEnvironment in
            guard let raw = variables.string("APP_ENV") else { return .development }
            guard let environment = AppEnvironment(rawValue: raw) else {
                throw ConfigurationError("APP_ENV", "must be development or production")
            }
            return environment
        } ?? .development
        let accessTTL = check { () throws(ConfigurationError) in try variables.duration("JWT_ACCESS_TTL", default: 15 * 60, allowZero: false) }
        let refreshTTL = check { () throws(ConfigurationError) in try variables.duration("JWT_REFRESH_TTL", default: 7 * 86_400, allowZero: false) }
        let reuse = check { () throws(ConfigurationError) in try variables.duration("REFRESH_REUSE_INTERVAL", default: 10, allowZero: true) }
        let cost = check { () throws(ConfigurationError) in try variables.integer("BCRYPT_COST", default: 12, in: 4...31) }
        let limits = check { () throws(ConfigurationError) -> RateLimits in
            let defaults = RateLimits()
            return RateLimits(
                login: try variables.rateLimit("RATE_LIMIT_LOGIN", default: defaults.login!),
                register: try variables.rateLimit("RATE_LIMIT_REGISTER", default: defaults.register!),
                refresh: try variables.rateLimit("RATE_LIMIT_REFRESH", default: defaults.refresh!),
                loginFailuresPerAccount: try variables.rateLimit("LOGIN_FAILURES_PER_ACCOUNT", default: defaults.loginFailuresPerAccount!)
            )
        }
        let trustedProxies = check { () throws(ConfigurationError) -> TrustedProxies in
            guard let raw = variables.string("TRUST_PROXY") else { return .none }
            guard let proxies = TrustedProxies(parsing: raw) else { throw ConfigurationError("TRUST_PROXY", TrustedProxies.formatProblem) }
            return proxies
        }
        let hashQueue = check { () throws(ConfigurationError) -> Int? in
            guard variables.string("PASSWORD_HASH_QUEUE") != nil else { return nil }
            return try variables.integer("PASSWORD_HASH_QUEUE", default: 0, in: 1...maximumPasswordHashQueue)
        }

        let algorithm = check { () throws(ConfigurationError) -> JWTAlgorithm in
            guard let raw = variables.string("JWT_ALGORITHM") else { return .hs256 }
            guard let algorithm = JWTAlgorithm.allCases.first(where: { $0.rawValue.lowercased() == raw.lowercased() }) else {
                throw ConfigurationError("JWT_ALGORITHM", "must be one of \(JWTAlgorithm.names)")
            }
            return algorithm
        }
        let privateKey = check { () throws(ConfigurationError) -> JWTPrivateKey? in
            guard let path = variables.string("JWT_PRIVATE_KEY_FILE") else { return nil }
            let pem = try variables.keyFile("JWT_PRIVATE_KEY_FILE", path: path)
            do { return try JWTPrivateKey(pemRepresentation: pem) } catch {
                throw ConfigurationError("JWT_PRIVATE_KEY_FILE", "names \(path), which \(error)")
            }
        }
        let previousKeys = check { () throws(ConfigurationError) -> [JWTPublicKey] in
            guard let list = variables.string("JWT_PREVIOUS_PUBLIC_KEY_FILES") else { return [] }
            var keys: [JWTPublicKey] = []
            for path in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !path.isEmpty {
                let pem = try variables.keyFile("JWT_PREVIOUS_PUBLIC_KEY_FILES", path: path)
                do { keys.append(try JWTPublicKey(pemRepresentation: pem)) } catch {
                    throw ConfigurationError("JWT_PREVIOUS_PUBLIC_KEY_FILES", "names \(path), which \(error)")
                }
            }
            return keys
        }
        let tokenCache = check { () throws(ConfigurationError) in
            try variables.integer("ACCESS_TOKEN_CACHE", default: AccessTokenVerifier.defaultCacheCapacity, in: 0...maximumVerifiedTokenCache)
        }

        var accessSecret = variables.string("JWT_ACCESS_SECRET")
        var refreshSecret = variables.string("JWT_REFRESH_SECRET")
        for (name, secret) in [("JWT_ACCESS_SECRET", accessSecret), ("JWT_REFRESH_SECRET", refreshSecret)]
        where secret == nil && !errors.contains(where: { $0.variable == name }) {
            if environment == .production && requireSecrets {
                errors.append(ConfigurationError(name, "is required when APP_ENV=production"))
            } else if !generateMissingSecrets {
                errors.append(ConfigurationError(name, "is required"))
            }
        }
        let generated = accessSecret == nil || refreshSecret == nil
        if accessSecret == nil { accessSecret = randomSecret() }
        if refreshSecret == nil { refreshSecret = randomSecret() }

        // The initialiser's rules (secret lengths, a cost too low for production, …).
        // Settings that did not parse take their defaults here and are reported once.
        let configuration = GatehouseConfiguration(
            unchecked: environment, accessSecret: accessSecret!, refreshSecret: refreshSecret!,
            accessTokenTTL: accessTTL ?? 900, refreshTokenTTL: refreshTTL ?? 604_800,
            issuer: variables.string("JWT_ISSUER") ?? "gatehouse", audience: variables.string("JWT_AUDIENCE"),
            bcryptCost: cost ?? 12, refreshReuseInterval: reuse ?? 10, rateLimits: limits ?? RateLimits(),
            trustedProxies: trustedProxies ?? .none, passwordHashQueue: hashQueue ?? nil, algorithm: algorithm ?? .hs256,
            privateKey: privateKey ?? nil, previousPublicKeys: previousKeys ?? [],
            previousAccessSecret: variables.string("JWT_ACCESS_SECRET_PREVIOUS"),
            previousRefreshSecret: variables.string("JWT_REFRESH_SECRET_PREVIOUS"),
            verifiedTokenCacheCapacity: tokenCache ?? AccessTokenVerifier.defaultCacheCapacity
        )
        for problem in configuration.problems where !errors.contains(where: { $0.variable == problem.variable }) {
            errors.append(problem)
        }
        return (errors.isEmpty ? configuration : nil, generated, errors)
    }

    /// 64 bytes from the system's CSPRNG, as lower-case hex (`gatehouse secret`, and the
    /// secrets of a development process that has none).
    public static func randomSecret(bytes count: Int = 64) -> String {
        var generator = SystemRandomNumberGenerator()
        return Hex.encode((0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }
}
