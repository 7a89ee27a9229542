/// Everything the library needs to issue and verify tokens and run the auth flows.
///
/// A plain value with the defaults of SPEC.md §1. The executable builds it from the
/// environment; an application embedding Gatehouse builds it however it likes. Either
/// way the initialiser validates it with the server's rules and messages (short, empty
/// or equal secrets, a cost too low for production, …), so no embedding runs on weaker
/// settings than the server would accept. `description` never shows the secrets.
///
/// The embedding default is `production` (`Secure` cookies, bcrypt cost at least 10):
/// an application has to say it is in development to get anything weaker.
public struct GatehouseConfiguration: Sendable, CustomStringConvertible {
    /// `production` turns on `Secure` cookies.
    public private(set) var environment: AppEnvironment
    /// HS256 key for access tokens (at least 32 characters).
    public private(set) var accessSecret: String
    /// HS256 key for refresh tokens (at least 32 characters, different from `accessSecret`).
    public private(set) var refreshSecret: String
    /// Access-token lifetime in seconds.
    public private(set) var accessTokenTTL: Int
    /// Refresh-token (and session idle) lifetime in seconds.
    public private(set) var refreshTokenTTL: Int
    /// `iss` claim, set and verified.
    public private(set) var issuer: String
    /// `aud` claim; when set it is set and verified.
    public private(set) var audience: String?
    /// bcrypt cost (4–31; at least 10 in production).
    public private(set) var bcryptCost: Int
    /// Seconds after a rotation during which the previous refresh token still answers (§3.3).
    public private(set) var refreshReuseInterval: Int
    /// Clock skew tolerated when checking `exp`, `iat` and `nbf`; SPEC.md allows no more than 30 s.
    public private(set) var clockSkew: Int
    /// Per-IP and per-account limits (SPEC.md §1, §4).
    public private(set) var rateLimits: RateLimits
    /// Which proxies are believed about the client's address (`TRUST_PROXY`).
    public private(set) var trustedProxies: TrustedProxies
    /// Most password hashes waiting or running at once (`PASSWORD_HASH_QUEUE`); `nil`
    /// picks `PasswordHashQueue.defaultDepth(cost:cores:)`.
    public private(set) var passwordHashQueue: Int?
    /// How access tokens are signed (`JWT_ALGORITHM`, SPEC.md §3.7).
    public private(set) var algorithm: JWTAlgorithm
    /// The signing key of an asymmetric `algorithm` (`JWT_PRIVATE_KEY_FILE`).
    public private(set) var privateKey: JWTPrivateKey?
    /// Earlier signing keys, still accepted and published (`JWT_PREVIOUS_PUBLIC_KEY_FILES`).
    public private(set) var previousPublicKeys: [JWTPublicKey]
    /// An earlier access secret, accepted for verification only, under HS256
    /// (`JWT_ACCESS_SECRET_PREVIOUS`).
    public private(set) var previousAccessSecret: String?
    /// An earlier refresh secret, accepted for verification only (`JWT_REFRESH_SECRET_PREVIOUS`).
    public private(set) var previousRefreshSecret: String?
    /// Most verified access tokens remembered under an asymmetric algorithm
    /// (`ACCESS_TOKEN_CACHE`); 0 turns the cache off.
    public private(set) var verifiedTokenCacheCapacity: Int

    /// Creates and validates a configuration; every parameter but the secrets has the
    /// SPEC.md default, except `environment`, which is `production` (see above).
    /// Throws every problem at once, each naming the environment variable of the setting.
    public init(
        environment: AppEnvironment = .production,
        accessSecret: String,
        refreshSecret: String,
        accessTokenTTL: Int = 15 * 60,
        refreshTokenTTL: Int = 7 * 86_400,
        issuer: String = "gatehouse",
        audience: String? = nil,
        bcryptCost: Int = 12,
        refreshReuseInterval: Int = 10,
        clockSkew: Int = 30,
        rateLimits: RateLimits = RateLimits(),
        trustedProxies: TrustedProxies = .none,
        passwordHashQueue: Int? = nil,
        algorithm: JWTAlgorithm = .hs256,
        privateKey: JWTPrivateKey? = nil,
        previousPublicKeys: [JWTPublicKey] = [],
        previousAccessSecret: String? = nil,
        previousRefreshSecret: String? = nil,
        verifiedTokenCacheCapacity: Int = AccessTokenVerifier.defaultCacheCapacity
    ) throws(ConfigurationErrors) {
        self.init(
            unchecked: environment, accessSecret: accessSecret, refreshSecret: refreshSecret, accessTokenTTL: accessTokenTTL,
            refreshTokenTTL: refreshTokenTTL, issuer: issuer, audience: audience, bcryptCost: bcryptCost,
            refreshReuseInterval: refreshReuseInterval, clockSkew: clockSkew, rateLimits: rateLimits,
            trustedProxies: trustedProxies, passwordHashQueue: passwordHashQueue, algorithm: algorithm, privateKey: privateKey,
            previousPublicKeys: previousPublicKeys, previousAccessSecret: previousAccessSecret,
            previousRefreshSecret: previousRefreshSecret, verifiedTokenCacheCapacity: verifiedTokenCacheCapacity
        )
        let problems = self.problems
        guard problems.isEmpty else { throw ConfigurationErrors(errors: problems) }
    }

    /// A configuration that has not been validated: for the server's loader, which
    /// reports these problems together with its own (see `problems`). Package-only, so
    /// no embedding can skip validation.
    package init(
        unchecked environment: AppEnvironment, accessSecret: String, refreshSecret: String, accessTokenTTL: Int,
        refreshTokenTTL: Int, issuer: String, audience: String?, bcryptCost: Int, refreshReuseInterval: Int,
        clockSkew: Int = 30, rateLimits: RateLimits, trustedProxies: TrustedProxies, passwordHashQueue: Int?,
        algorithm: JWTAlgorithm = .hs256, privateKey: JWTPrivateKey? = nil, previousPublicKeys: [JWTPublicKey] = [],
        previousAccessSecret: String? = nil, previousRefreshSecret: String? = nil,
        verifiedTokenCacheCapacity: Int = AccessTokenVerifier.defaultCacheCapacity
    ) {
        self.environment = environment
        self.accessSecret = accessSecret
        self.refreshSecret = refreshSecret
        self.accessTokenTTL = accessTokenTTL
        self.refreshTokenTTL = refreshTokenTTL
        self.issuer = issuer
        self.audience = audience
        self.bcryptCost = bcryptCost
        self.refreshReuseInterval = refreshReuseInterval
        self.clockSkew = min(max(clockSkew, 0), 30)
        self.rateLimits = rateLimits
        self.trustedProxies = trustedProxies
        self.passwordHashQueue = passwordHashQueue
        self.algorithm = algorithm
        self.privateKey = privateKey
        self.previousPublicKeys = previousPublicKeys
        self.previousAccessSecret = previousAccessSecret
        self.previousRefreshSecret = previousRefreshSecret
        self.verifiedTokenCacheCapacity = verifiedTokenCacheCapacity
    }

    /// Longest secret accepted: far beyond any real key, and it bounds what is hashed.
    public static let maximumSecretLength = 4_096
    /// Most password hashes a queue may be configured to hold.
    public static let maximumPasswordHashQueue = 100_000
    /// Most verified tokens a cache may be configured to hold (about 300 bytes each).
    public static let maximumVerifiedTokenCache = 1_000_000

    /// What is wrong with this configuration, by the rules of the server's loader; empty
    /// when it is valid.
    public var problems: [ConfigurationError] {
        var problems: [ConfigurationError] = []
        for (name, secret) in [("JWT_ACCESS_SECRET", accessSecret), ("JWT_REFRESH_SECRET", refreshSecret)] {
            if secret.count < 32 {
                problems.append(ConfigurationError(name, "must be at least 32 characters"))
            } else if secret.utf8.count > Self.maximumSecretLength {
                problems.append(ConfigurationError(name, "must be at most \(Self.maximumSecretLength) bytes"))
            }
        }
        if accessSecret == refreshSecret {
            problems.append(ConfigurationError("JWT_REFRESH_SECRET", "must differ from JWT_ACCESS_SECRET"))
        }
        problems += keyProblems
        for (name, ttl) in [("JWT_ACCESS_TTL", accessTokenTTL), ("JWT_REFRESH_TTL", refreshTokenTTL)]
        where !(1...TimeSpan.maximumSeconds).contains(ttl) {
            problems.append(ConfigurationError(name, "must be a duration greater than zero such as 900, 900s, 15m, 12h or 7d"))
        }
        if !(0...TimeSpan.maximumSeconds).contains(refreshReuseInterval) {
            problems.append(ConfigurationError("REFRESH_REUSE_INTERVAL", "must be a duration such as 900, 900s, 15m, 12h or 7d"))
        }
        func isClaimText(_ text: String) -> Bool {
            !text.isEmpty && text.utf8.count <= 1_024 && !text.unicodeScalars.contains { $0.properties.generalCategory == .control }
        }
        if !isClaimText(issuer) {
            problems.append(ConfigurationError("JWT_ISSUER", "must be 1 to 1024 bytes without control characters"))
        }
        if let audience, !isClaimText(audience) {
            problems.append(ConfigurationError("JWT_AUDIENCE", "must be 1 to 1024 bytes without control characters when set"))
        }
        if !(4...31).contains(bcryptCost) {
            problems.append(ConfigurationError("BCRYPT_COST", "must be a whole number from 4 to 31"))
        } else if environment == .production && bcryptCost < 10 {
            problems.append(ConfigurationError("BCRYPT_COST", "must be at least 10 when APP_ENV=production"))
        }
        if case .hops(let hops) = trustedProxies, !(1...TrustedProxies.maximumHops).contains(hops) {
            problems.append(ConfigurationError("TRUST_PROXY", TrustedProxies.formatProblem))
        }
        if case .networks(let networks) = trustedProxies, networks.isEmpty {
            problems.append(ConfigurationError("TRUST_PROXY", TrustedProxies.formatProblem))
        }
        if let passwordHashQueue, !(1...Self.maximumPasswordHashQueue).contains(passwordHashQueue) {
            problems.append(ConfigurationError("PASSWORD_HASH_QUEUE", "must be a whole number from 1 to \(Self.maximumPasswordHashQueue)"))
        }
        return problems
    }

    /// The rules of SPEC.md §3.7: an asymmetric algorithm needs a private key of its
    /// type; HS256 takes none; previous secrets are secrets like the current ones, kept
    /// apart between the two kinds of token, and only mean something under HS256 (access).
    var keyProblems: [ConfigurationError] {
        var problems: [ConfigurationError] = []
        switch (algorithm.isAsymmetric, privateKey) {
        case (true, nil):
            problems.append(ConfigurationError("JWT_PRIVATE_KEY_FILE", "is required when JWT_ALGORITHM is \(algorithm.rawValue)"))
        case (true, let key?) where key.algorithm != algorithm:
            problems.append(ConfigurationError("JWT_PRIVATE_KEY_FILE", "holds a key for \(key.algorithm.rawValue), not \(algorithm.rawValue)"))
        case (false, _?):
            problems.append(ConfigurationError("JWT_PRIVATE_KEY_FILE", "is only used with JWT_ALGORITHM EdDSA, ES256 or RS256"))
        default:
            break
        }
        for (name, secret) in [("JWT_ACCESS_SECRET_PREVIOUS", previousAccessSecret), ("JWT_REFRESH_SECRET_PREVIOUS", previousRefreshSecret)] {
            guard let secret else { continue }
            if secret.count < 32 {
                problems.append(ConfigurationError(name, "must be at least 32 characters"))
            } else if secret.utf8.count > Self.maximumSecretLength {
                problems.append(ConfigurationError(name, "must be at most \(Self.maximumSecretLength) bytes"))
            }
        }
        if let previousAccessSecret, previousAccessSecret == refreshSecret || previousAccessSecret == previousRefreshSecret {
            problems.append(ConfigurationError("JWT_ACCESS_SECRET_PREVIOUS", "must differ from the refresh secrets"))
        }
        if let previousAccessSecret, previousAccessSecret == accessSecret {
            problems.append(ConfigurationError("JWT_ACCESS_SECRET_PREVIOUS", "must differ from JWT_ACCESS_SECRET (it is the secret being replaced)"))
        }
        if let previousRefreshSecret, previousRefreshSecret == refreshSecret {
            problems.append(ConfigurationError("JWT_REFRESH_SECRET_PREVIOUS", "must differ from JWT_REFRESH_SECRET (it is the secret being replaced)"))
        }
        if let previousRefreshSecret, previousRefreshSecret == accessSecret {
            problems.append(ConfigurationError("JWT_REFRESH_SECRET_PREVIOUS", "must differ from JWT_ACCESS_SECRET"))
        }
        if previousAccessSecret != nil && algorithm.isAsymmetric {
            problems.append(ConfigurationError("JWT_ACCESS_SECRET_PREVIOUS", "is only accepted when JWT_ALGORITHM is HS256"))
        }
        if !(0...Self.maximumVerifiedTokenCache).contains(verifiedTokenCacheCapacity) {
            problems.append(ConfigurationError("ACCESS_TOKEN_CACHE", "must be a whole number from 0 to \(Self.maximumVerifiedTokenCache)"))
        }
        return problems
    }

    /// Whether cookies carry `Secure`.
    public var secureCookies: Bool { environment == .production }

    public var description: String {
        "GatehouseConfiguration(environment: \(environment.rawValue), accessSecret: <redacted>, "
            + "refreshSecret: <redacted>, accessTokenTTL: \(accessTokenTTL)s, refreshTokenTTL: \(refreshTokenTTL)s, "
            + "issuer: \(issuer), audience: \(audience ?? "nil"), bcryptCost: \(bcryptCost), "
            + "refreshReuseInterval: \(refreshReuseInterval)s, clockSkew: \(clockSkew)s, "
            + "rateLimits: \(rateLimits), trustedProxies: \(trustedProxies), "
            + "passwordHashQueue: \(passwordHashQueue.map(String.init) ?? "default"), algorithm: \(algorithm.rawValue), "
            + "signingKey: \(privateKey.map { $0.publicKey.kid } ?? "none"), previousPublicKeys: \(previousPublicKeys.map(\.kid)), "
            + "previousSecrets: \(previousAccessSecret == nil ? "" : "access ")\(previousRefreshSecret == nil ? "" : "refresh")"
            + ", verifiedTokenCache: \(verifiedTokenCacheCapacity))"
    }
}

/// The deployment environment (`APP_ENV`).
public enum AppEnvironment: String, Sendable, CaseIterable {
    case development
    case production
}
