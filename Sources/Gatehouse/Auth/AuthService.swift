import Foundation
import Logging

/// Registration, login, refresh rotation and logout (SPEC.md §3.2–§3.3).
///
/// Knows nothing of HTTP beyond `AppError`: it takes validated input and returns tokens.
public struct AuthService: Sendable {
    let configuration: GatehouseConfiguration
    let users: any UserRepository
    let sessions: any SessionRepository
    let hasher: any PasswordHasher
    let issuer: TokenIssuer
    /// The verifier the HTTP layer uses for Bearer tokens.
    public let verifier: TokenVerifier
    /// Per-IP and per-account limits.
    let limiters: RateLimiters
    /// Admission to password hashing (bounded, per-client shares).
    let hashQueue: PasswordHashQueue
    /// Stored password-hash kinds, for the unknown-email comparison.
    let census = PasswordHashCensus()
    let now: @Sendable () -> Date

    /// Creates the service. `now` is injectable so rotation windows are tested without
    /// sleeping. `limiters` defaults to in-memory limiters for `configuration.rateLimits`;
    /// a fleet passes limiters shared between instances.
    public init(
        configuration: GatehouseConfiguration,
        keys: SigningKeys,
        users: any UserRepository,
        sessions: any SessionRepository,
        hasher: any PasswordHasher,
        limiters: RateLimiters? = nil,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.limiters = limiters ?? .inMemory(configuration.rateLimits)
        self.hashQueue = PasswordHashQueue(
            depth: configuration.passwordHashQueue ?? PasswordHashQueue.defaultDepth(cost: configuration.bcryptCost)
        )
        self.configuration = configuration
        self.users = users
        self.sessions = sessions
        self.hasher = hasher
        self.issuer = TokenIssuer(keys: keys, configuration: configuration)
        self.verifier = TokenVerifier(keys: keys, configuration: configuration, now: now)
        self.now = now
    }

    /// Whole seconds: tokens carry integer times and sessions store the same instants.
    func currentSecond() -> Int { Int(now().timeIntervalSince1970.rounded(.down)) }

    /// Creates a user with the given role. 409 when the email is taken (the unique index
    /// decides, so concurrent registrations of one email give exactly one user).
    /// `client` is who asked, for the hashing queue's per-client share (`nil`: this
    /// process itself, such as `gatehouse create-admin`).
    public func createUser(_ registration: Registration, role: Role, client: ClientInfo? = nil, logger: Logger) async throws -> UserRecord {
        let passwordHash = try await hashQueue.run(client: client?.rateLimitKey ?? "local") {
            try await hasher.hash(registration.password)
        }
        let date = Date(timeIntervalSince1970: TimeInterval(currentSecond()))
        let user = UserRecord(
            id: UUID(), name: registration.name, email: registration.email, passwordHash: passwordHash,
            role: role, tokenVersion: 0, createdAt: date, updatedAt: date
        )
        do {
            try await users.create(user, logger: logger)
        } catch StorageError.duplicateEmail {
            throw AppError.emailTaken
        }
        census.added(passwordHash)
        logger.info("User registered", metadata: ["auth.user.id": "\(user.id)", "auth.user.role": "\(role.rawValue)"])
        return user
    }

    /// Registers a user (role `user`) and opens their first session.
    public func register(_ registration: Registration, client: ClientInfo, logger: Logger) async throws -> AuthResult {
        try await enforce(limiters.register, key: client.rateLimitKey, action: "register", logger: logger)
        let user = try await createUser(registration, role: .user, client: client, logger: logger)
        return try await openSession(for: user, client: client, logger: logger)
    }

    /// Logs in. An unknown email still costs one bcrypt comparison (against the dummy
    /// hash) and gets the same message, so neither timing nor text reveals accounts.
    ///
    /// Every attempt counts against the client IP and against the email; a successful
    /// login clears its own email's count. Counting before the comparison (rather than
    /// after a failure) means parallel guesses cannot all slip in under the limit, and
    /// the email is throttled before it is looked up, so a throttled unknown email and
    /// a throttled real one get the same answer at the same speed.
    public func login(email rawEmail: String, password: String, client: ClientInfo, logger: Logger) async throws -> AuthResult {
        let email = rawEmail.trimmingASCIIWhitespace().lowercased()
        try await enforce(limiters.login, key: client.rateLimitKey, action: "login", logger: logger)
        try await enforce(limiters.loginFailuresPerAccount, key: email, action: "login_account", logger: logger)
        // Only an address registration could have stored is looked up. Anything else (a NUL,
        // which PostgreSQL refuses in `text`, other control characters, 60 KB of text) can
        // match no account, so it gets the unknown-email answer at the same cost, identical
        // on every backend, without reaching SQL.
        let storable = EmailAddress.normalize(email)
        let user = if let storable { try await users.find(email: storable, logger: logger) } else { UserRecord?.none }
        // An unknown email is compared against a dummy of the kind most stored hashes are
        // (after a cost change, the old cost until most accounts have logged in again), so
        // it costs what a real account's wrong password most often costs.
        let hash: String
        if let user {
            hash = user.passwordHash
        } else {
            let kind = try await census.mostCommonKind { try await users.passwordHashPrefixCounts(logger: logger) }
            hash = kind.map { hasher.dummyHash(like: $0) } ?? hasher.dummyHash
        }
        let matches = try await hashQueue.run(client: client.rateLimitKey) {
            let matches = try await hasher.verify(password, against: hash)
            if matches, let user, hasher.needsRehash(user.passwordHash) {
                await rehash(user, password: password, logger: logger)
            }
            return matches
        }
        guard let user, matches else {
            logger.info("Login failed")
            throw AppError.invalidCredentials
        }
        try await limiters.loginFailuresPerAccount?.reset(email)
        logger.info("Login succeeded", metadata: ["auth.user.id": "\(user.id)"])
        return try await openSession(for: user, client: client, logger: logger)
    }

    /// Stores a hash of `password` with the configured parameters, in the same request
    /// and queue slot as the login that proved it (as Supabase Auth, Keycloak and
    /// fastapi-users do), so hashes move to a new `BCRYPT_COST` as users log in. A failure
    /// here does not fail the login: the old hash still works and the next login retries.
    private func rehash(_ user: UserRecord, password: String, logger: Logger) async {
        do {
            let fresh = try await hasher.hash(password)
            if try await users.replacePasswordHash(id: user.id, from: user.passwordHash, to: fresh, at: now(), logger: logger) {
                census.replaced(user.passwordHash, with: fresh)
                logger.debug("Password rehashed", metadata: ["auth.user.id": "\(user.id)"])
            }
        } catch {
            logger.warning("Password rehash failed", metadata: ["auth.user.id": "\(user.id)", "error.type": "\(type(of: error))"])
        }
    }

    /// Counts one event against `limiter` (if the limit is on); 429 with `Retry-After`
    /// when it is refused.
    func enforce(_ limiter: (any RateLimiter)?, key: String, action: String, logger: Logger) async throws {
        guard let limiter else { return }
        if case .limited(let retryAfter) = try await limiter.acquire(key, now: now()) {
            logger.info("Rate limited", metadata: ["auth.rate_limit": "\(action)", "auth.retry_after": "\(retryAfter)"])
            throw AppError.tooManyRequests(retryAfter: retryAfter)
        }
    }

    private func openSession(for user: UserRecord, client: ClientInfo, logger: Logger) async throws -> AuthResult {
        let second = currentSecond()
        let issued = Date(timeIntervalSince1970: TimeInterval(second))
        let session = SessionRecord(
            id: UUID(), userID: user.id, generation: 0, rotatedAt: issued, createdAt: issued, lastUsedAt: issued,
            expiresAt: issued.addingTimeInterval(TimeInterval(configuration.refreshTokenTTL)), revokedAt: nil,
            userAgent: client.userAgent, ip: client.ip
        )
        try await sessions.create(session, logger: logger)
        logger.debug("Session opened", metadata: ["auth.user.id": "\(user.id)", "auth.session.id": "\(session.id)"])
        let access = try await issuer.accessToken(
            userID: user.id, role: user.role, version: user.tokenVersion, sessionID: session.id, issuedAt: second
        )
        let refresh = try await issuer.refreshToken(
            userID: user.id, version: user.tokenVersion, sessionID: session.id, generation: 0, issuedAt: second
        )
        return AuthResult(accessToken: access, refreshToken: refresh, user: user)
    }

    /// Logs out: every session and `tokenVersion` (`all`), this session (`local`), or every
    /// other session (`others`).
    public func logout(_ claims: AccessClaims, scope: LogoutScope, logger: Logger) async throws {
        let date = now()
        switch scope {
        case .all:
            try await users.incrementTokenVersion(id: claims.userID, at: date, logger: logger)
            try await sessions.revokeAll(userID: claims.userID, except: nil, at: date, logger: logger)
        case .local:
            try await sessions.revoke(id: claims.sessionID, userID: claims.userID, at: date, logger: logger)
        case .others:
            try await sessions.revokeAll(userID: claims.userID, except: claims.sessionID, at: date, logger: logger)
        }
        logger.info(
            "Logged out",
            metadata: ["auth.user.id": "\(claims.sub)", "auth.session.id": "\(claims.sid)", "auth.logout.scope": "\(scope.rawValue)"]
        )
    }
}
