import Foundation
import Logging

extension AuthService {
    /// Logs out: every session and `tokenVersion` (`all`), this session (`local`), or every
    /// other session (`others`).
    public func logout(_ claims: AccessClaims, scope: LogoutScope, client: ClientInfo? = nil, logger: Logger) async throws {
        let date = now()
        let audit = event(.logout, actor: claims.userID, user: claims.userID, session: claims.sessionID, client: client)
        switch scope {
        case .all:
            _ = try await users.logoutEverywhere(id: claims.userID, at: date, audit: audit, logger: logger)
        case .local:
            try await sessions.revoke(id: claims.sessionID, userID: claims.userID, at: date, audit: audit, logger: logger)
        case .others:
            try await sessions.revokeAll(userID: claims.userID, except: claims.sessionID, at: date, audit: audit, logger: logger)
        }
        await revocationsChanged(logger: logger)
        AuthMetrics.logout(scope)
        logger.debug(
            "Logged out",
            metadata: ["auth.user.id": "\(claims.sub)", "auth.session.id": "\(claims.sid)", "auth.logout.scope": "\(scope.rawValue)"]
        )
    }

    /// After a change that revokes tokens has committed: returns once this instance's
    /// revocation list holds it, so the change's own answer means "refused here from now
    /// on". A failure (the database went away a moment after the commit) is logged, not
    /// the client's: the feed's next poll brings the change in.
    func revocationsChanged(logger: Logger) async {
        guard let revocations else { return }
        do {
            try await revocations.catchUp(logger: logger)
        } catch {
            logger.warning("Revocation list not caught up; the next poll will", metadata: ["error.type": "\(type(of: error))"])
        }
    }
}
