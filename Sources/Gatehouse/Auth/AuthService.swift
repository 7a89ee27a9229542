import HTTPTypes
import Crypto
import Foundation
import Logging

/// Registration, login, refresh rotation and logout (SPEC.md §3.2–§3.3).
///
/// Knows nothing of HTTP beyond `AppError`: it takes validated input and returns tokens.
public struct AuthService: Sendable {
    let configuration: GatehouseConfiguration
    let users: any UserRepository
    let sessions: any SessionRepository
    /// The audit log; `nil`: events that record no change (failed and throttled logins)
    /// are not kept, and `auditEvents` answers nothing.
    let audit: (any AuditRepository)?
    /// At most one `login.throttled` event per account and minute.
    let throttleEvents = ThrottleEventGate()
    /// Signs the admin pages' cursors.
    let cursors: CursorCodec
    let hasher: any PasswordHasher
    let issuer: TokenIssuer
    /// The verifier the HTTP layer uses for Bearer tokens.
    public let verifier: TokenVerifier
    /// Per-IP and per-account limits.
    let limiters: RateLimiters
    /// Admission to password hashing (bounded, per-client shares).
    let hashQueue: PasswordHashQueue
    /// Stored password-hash kinds, for the unknown-email comparison.
    let census: PasswordHashCensus
    /// Sessions this process rotated recently (see `refresh`).
    let rotations = RotationHints()
    /// Keeps the verifier's revocation list current (SPEC.md §3.6); `nil`: access tokens
    /// stay valid until they expire, whatever changes.
    public let revocations: (any RevocationFeed)?
    let now: @Sendable () -> Date

    /// Creates the service. `now` is injectable so rotation windows are tested without
    /// sleeping. `limiters` defaults to in-memory limiters for `configuration.rateLimits`;
    /// a fleet passes limiters shared between instances. With `revocations`, the verifier
    /// refuses revoked access tokens, and every change that revokes tokens returns only
    /// once this instance's list holds it.
    public init(
        configuration: GatehouseConfiguration,
        keys: SigningKeys,
        users: any UserRepository,
        sessions: any SessionRepository,
        audit: (any AuditRepository)? = nil,
        hasher: any PasswordHasher,
        limiters: RateLimiters? = nil,
        revocations: (any RevocationFeed)? = nil,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.revocations = revocations
        self.limiters = limiters ?? .inMemory(configuration.rateLimits)
        self.hashQueue = PasswordHashQueue(
            depth: configuration.passwordHashQueue ?? PasswordHashQueue.defaultDepth(cost: configuration.bcryptCost)
        )
        self.configuration = configuration
        self.users = users
        self.sessions = sessions
        self.audit = audit
        self.cursors = CursorCodec(secret: configuration.accessSecret)
        self.hasher = hasher
        self.census = PasswordHashCensus(dummyFor: { hasher.dummyHash(like: $0) })
        self.issuer = TokenIssuer(keys: keys, configuration: configuration)
        self.verifier = TokenVerifier(keys: keys, configuration: configuration, revocations: revocations?.list, now: now)
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
        return try await insert(registration, role: role, passwordHash: passwordHash, logger: logger)
    }

    private func insert(_ registration: Registration, role: Role, passwordHash: String, logger: Logger) async throws -> UserRecord {
        let user = newUser(registration, role: role, passwordHash: passwordHash)
        do {
            try await users.create(user, logger: logger)
        } catch StorageError.duplicateEmail {
            throw AppError.emailTaken
        }
        census.added(passwordHash)
        logger.debug("User registered", metadata: ["auth.user.id": "\(user.id)", "auth.user.role": "\(role.rawValue)"])
        return user
    }

    private func newUser(_ registration: Registration, role: Role, passwordHash: String) -> UserRecord {
        let date = Date(timeIntervalSince1970: TimeInterval(currentSecond()))
        return UserRecord(
            id: UUID(), name: registration.name, email: registration.email, passwordHash: passwordHash,
            role: role, tokenVersion: 0, createdAt: date, updatedAt: date
        )
    }

    /// Registers a user (role `user`) and opens their first session.
    ///
    /// The hashing slot is taken before the registration is counted against the client's
    /// limit, so a 503 `Service busy` costs the client none of its registrations.
    public func register(_ registration: Registration, client: ClientInfo, logger: Logger) async throws -> AuthResult {
        let passwordHash = try await hashQueue.run(client: client.rateLimitKey) {
            try await enforce(limiters.register, key: client.rateLimitKey, action: "register", logger: logger)
            return try await hasher.hash(registration.password)
        }
        // The user, their first session and the event in one transaction: a registration
        // is whole or absent.
        let user = newUser(registration, role: .user, passwordHash: passwordHash)
        let session = newSession(for: user, client: client)
        do {
            try await users.register(
                user, session: session,
                audit: event(.userRegistered, actor: user.id, user: user.id, session: session.id, client: client), logger: logger
            )
        } catch StorageError.duplicateEmail {
            throw AppError.emailTaken
        }
        census.added(passwordHash)
        AuthMetrics.registered()
        logger.debug("User registered", metadata: ["auth.user.id": "\(user.id)", "auth.session.id": "\(session.id)"])
        return tokens(for: user, session: session)
    }

    /// Logs in. An unknown email still costs one bcrypt comparison (against the dummy
    /// hash) and gets the same message, so neither timing nor text reveals accounts.
    ///
    /// Every attempt counts against the client IP and against the email; a successful
    /// login clears its own email's count. Counting before the comparison (rather than
    /// after a failure) means parallel guesses cannot all slip in under the limit, and
    /// the email is throttled before it is looked up, so a throttled unknown email and
    /// a throttled real one get the same answer at the same speed. The hashing slot is
    /// taken before anything is counted: a 503 `Service busy` during a flood costs a real
    /// user none of their attempts, so it cannot turn into a lockout.
    public func login(email rawEmail: String, password: String, client: ClientInfo, logger: Logger) async throws -> AuthResult {
        let email = rawEmail.trimmingASCIIWhitespace().lowercased()
        // Only an address registration could have stored is looked up. Anything else (a NUL,
        // which PostgreSQL refuses in `text`, other control characters, 60 KB of text) can
        // match no account, so it gets the unknown-email answer at the same cost, identical
        // on every backend, without reaching SQL. Such text is not a limiter key either (a
        // limiter may be a database); its digest is.
        let storable = EmailAddress.normalize(email)
        let accountKey = storable ?? "unstorable:" + Hex.encode(SHA256.hash(data: Array(email.utf8)))
        let (user, matches, rehashed) = try await hashQueue.run(client: client.rateLimitKey) {
            // A refusal is recorded once per minute per refusing key (the client's
            // address for the per-IP limit, the account for the per-account one), so a
            // client cycling through emails cannot turn its refusals into rows.
            let checks = [
                (limiters.login, client.rateLimitKey, "login"), (limiters.loginFailuresPerAccount, accountKey, "login_account"),
            ]
            for (limiter, key, action) in checks {
                do {
                    try await enforce(limiter, key: key, action: action, logger: logger)
                } catch let error as AppError where error.status == .tooManyRequests {
                    AuthMetrics.login(.throttled)
                    if throttleEvents.shouldRecord(action + ":" + key, at: now()) {
                        await record(event(.loginThrottled, client: client, email: storable), logger: logger)
                    }
                    throw error
                }
            }
            let user = if let storable { try await users.find(email: storable, logger: logger) } else { UserRecord?.none }
            // An unknown email is compared against a dummy of the cost most stored hashes
            // have (after a cost change, the old cost until most accounts have logged in
            // again), so it costs what a real account's wrong password most often costs.
            let hash: String
            if let user {
                hash = user.passwordHash
            } else {
                hash = try await census.mostCommonDummy { try await users.passwordHashPrefixCounts(logger: logger) } ?? hasher.dummyHash
            }
            let matches = try await hasher.verify(password, against: hash)
            // A hash of another cost is replaced now, in the same request and slot (as
            // Supabase Auth, Keycloak and fastapi-users do), so hashes move to a new
            // `BCRYPT_COST` as users log in. A failure here does not fail the login.
            var rehashed: String?
            if matches, let user, hasher.needsRehash(user.passwordHash) {
                rehashed = try? await hasher.hash(password)
            }
            return (user, matches, rehashed)
        }
        guard let user, matches else {
            logger.info("Login failed")
            AuthMetrics.login(.failure)
            await record(event(.loginFailed, user: user?.id, client: client, email: storable), logger: logger)
            throw AppError.invalidCredentials
        }
        if let rehashed {
            await store(rehashed, for: user, logger: logger)
        }
        try await limiters.loginFailuresPerAccount?.reset(accountKey)
        logger.debug("Login succeeded", metadata: ["auth.user.id": "\(user.id)"])
        let session = newSession(for: user, client: client)
        do {
            try await sessions.create(
                session, audit: event(.loginSucceeded, actor: user.id, user: user.id, session: session.id, client: client), logger: logger
            )
        } catch StorageError.userGone {
            // Deleted by an admin while its password was being checked.
            throw AppError.invalidCredentials
        }
        logger.debug("Session opened", metadata: ["auth.user.id": "\(user.id)", "auth.session.id": "\(session.id)"])
        AuthMetrics.login(.success)
        return tokens(for: user, session: session)
    }

    /// Stores a rehashed password, outside the hashing slot (it is database work), and
    /// only if the stored hash is still the one the login verified: a password changed
    /// meanwhile stays changed. A failure leaves the old hash, which still works.
    private func store(_ rehashed: String, for user: UserRecord, logger: Logger) async {
        do {
            if try await users.replacePasswordHash(id: user.id, from: user.passwordHash, to: rehashed, at: now(), logger: logger) {
                census.replaced(user.passwordHash, with: rehashed)
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
            AuthMetrics.rateLimited(action)
            throw AppError.tooManyRequests(retryAfter: retryAfter)
        }
    }

    private func newSession(for user: UserRecord, client: ClientInfo) -> SessionRecord {
        let issued = Date(timeIntervalSince1970: TimeInterval(currentSecond()))
        return SessionRecord(
            id: UUID(), userID: user.id, generation: 0, rotatedAt: issued, createdAt: issued, lastUsedAt: issued,
            expiresAt: issued.addingTimeInterval(TimeInterval(configuration.refreshTokenTTL)), revokedAt: nil,
            userAgent: client.userAgent, ip: client.ip
        )
    }

    /// The tokens of a session just opened.
    private func tokens(for user: UserRecord, session: SessionRecord) -> AuthResult {
        let second = Int(session.createdAt.timeIntervalSince1970)
        let pair = tokens(
            userID: user.id, role: user.role, version: user.tokenVersion, session: session.id, generation: 0, issuedAt: second,
            accessIssuedAt: second
        )
        return AuthResult(accessToken: pair.accessToken, refreshToken: pair.refreshToken, user: user)
    }

    /// A fresh access token (issued at `accessIssuedAt`, now by default) and the refresh
    /// token of `generation` issued at `issuedAt`: every flow that hands out tokens
    /// (sign-in, refresh, password change) builds them here.
    func tokens(
        userID: UUID, role: Role, version: Int, session: UUID, generation: Int, issuedAt: Int, accessIssuedAt: Int? = nil
    ) -> RefreshResult {
        let access = issuer.accessToken(
            userID: userID, role: role, version: version, sessionID: session, issuedAt: accessIssuedAt ?? currentSecond()
        )
        let refresh = issuer.refreshToken(
            userID: userID, version: version, sessionID: session, generation: generation, issuedAt: issuedAt
        )
        return RefreshResult(accessToken: access, refreshToken: refresh)
    }

    /// An audit event now. `client` gives the address and user agent.
    func event(
        _ kind: AuditEvent.Kind, actor: UUID? = nil, user: UUID? = nil, session: UUID? = nil, client: ClientInfo? = nil,
        email: String? = nil
    ) -> AuditEvent {
        // Whole seconds, like every other stored time: a time bound back from a cursor must
        // be the one stored (PostgreSQL keeps microseconds, which a Double does not hold
        // exactly), and ties are ordered by id.
        AuditEvent(
            at: Date(timeIntervalSince1970: TimeInterval(currentSecond())), kind: kind, actorID: actor, userID: user, sessionID: session, ip: client?.ip,
            userAgent: client?.userAgent, email: email
        )
    }

    /// Records an event that goes with no change. A failure is logged, never the
    /// client's problem: the answer it gets does not depend on the log.
    func record(_ event: AuditEvent, logger: Logger) async {
        guard let audit else { return }
        do {
            try await audit.record(event, logger: logger)
        } catch {
            logger.warning("Audit event not recorded", metadata: ["auth.audit.event": "\(event.kind.rawValue)", "error.type": "\(type(of: error))"])
        }
    }
}
