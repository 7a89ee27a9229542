import Foundation
import Logging

extension AuthService {
    /// The caller's live sessions, most recently used first (SPEC.md §3.4).
    public func sessions(of claims: AccessClaims, logger: Logger) async throws -> [SessionRecord] {
        try await sessions.listLive(userID: claims.userID, now: now(), logger: logger)
    }

    /// The caller's account, as register and login describe it (`{id,name,email,role}`): what
    /// a client that kept only the refresh cookie (the account page after a reload) shows.
    /// A user gone since the token was issued is 401 `Access token revoked` (SPEC.md §3.6).
    public func account(of claims: AccessClaims, logger: Logger) async throws -> UserRecord {
        guard let user = try await users.find(id: claims.userID, logger: logger) else { throw AppError.accessTokenRevoked }
        return user
    }

    /// Revokes one of the caller's live sessions. 404 `Session not found` for an unknown
    /// id, another user's session and one already revoked alike, so the answer tells
    /// nothing about sessions that are not the caller's.
    public func revokeSession(_ id: UUID, of claims: AccessClaims, client: ClientInfo? = nil, logger: Logger) async throws {
        let audit = event(.sessionRevoked, actor: claims.userID, user: claims.userID, session: id, client: client)
        guard try await sessions.revokeLive(id: id, userID: claims.userID, at: now(), audit: audit, logger: logger) else {
            throw AppError.sessionNotFound
        }
        await revocationsChanged(logger: logger)
        logger.debug("Session revoked", metadata: ["auth.user.id": "\(claims.sub)", "auth.revoked.session.id": "\(id)"])
    }

    /// Changes the caller's password (SPEC.md §3.4): every other session is revoked and
    /// `tokenVersion` incremented, in one transaction, and the caller's session continues
    /// with the tokens returned (its generation advances, so the refresh token it held is
    /// spent).
    ///
    /// `newPassword` is checked first (register's rules, and different from the current
    /// one), then the attempt counts against `LOGIN_FAILURES_PER_ACCOUNT` like a login,
    /// then the current password is compared: a wrong one is 400 `currentPassword is
    /// incorrect`, 429 once the account's limit is reached. Both hashes run in one slot of
    /// the hashing queue, off the event loop.
    public func changePassword(
        _ claims: AccessClaims, currentPassword: String, newPassword: String, client: ClientInfo, logger: Logger
    ) async throws -> RefreshResult {
        if let error = Registration.checkPassword(newPassword) {
            throw AppError.validation([FieldError(field: "newPassword", message: error.message)])
        }
        if newPassword == currentPassword {
            throw AppError.validation([FieldError(field: "newPassword", message: "must differ from the current password")])
        }
        guard let user = try await users.find(id: claims.userID, logger: logger), user.tokenVersion == claims.version else {
            throw AppError.sessionExpired
        }
        let (matches, newHash) = try await hashQueue.run(client: client.rateLimitKey) {
            try await enforce(limiters.loginFailuresPerAccount, key: user.email, action: "password_account", logger: logger)
            guard try await hasher.verify(currentPassword, against: user.passwordHash) else { return (false, String?.none) }
            return (true, try await hasher.hash(newPassword))
        }
        guard matches, let newHash else {
            logger.info("Password change refused: current password incorrect", metadata: ["auth.user.id": "\(claims.sub)"])
            throw AppError.currentPasswordIncorrect
        }
        try await limiters.loginFailuresPerAccount?.reset(user.email)
        let second = currentSecond()
        let date = Date(timeIntervalSince1970: TimeInterval(second))
        guard let change = try await users.changePassword(
            id: user.id, from: user.passwordHash, to: newHash, keeping: claims.sessionID, at: date,
            audit: event(.passwordChanged, actor: user.id, user: user.id, session: claims.sessionID, client: client), logger: logger
        ) else {
            // The stored hash changed since it was read (another change won), or this
            // session ended meanwhile: nothing was written.
            throw AppError.sessionExpired
        }
        census.replaced(user.passwordHash, with: newHash)
        await revocationsChanged(logger: logger)
        logger.info("Password changed", metadata: ["auth.user.id": "\(claims.sub)", "auth.session.id": "\(claims.sid)"])
        return tokens(
            userID: user.id, role: change.role, version: change.tokenVersion, session: claims.sessionID,
            generation: change.generation, issuedAt: second, accessIssuedAt: second
        )
    }
}
