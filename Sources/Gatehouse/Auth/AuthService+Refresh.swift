import HTTPTypes
import Foundation
import Logging

extension AuthService {
    /// How often a refresh re-reads its session after losing a rotation race before
    /// giving up. One retry is always enough on a single database: the loser then sees
    /// the winner's generation and takes the grace path.
    static let rotationAttempts = 3

    /// Rotates a refresh token (SPEC.md §3.3).
    ///
    /// - The current token is spent: the session advances one generation and a new token
    ///   is returned.
    /// - The immediate predecessor, within `refreshReuseInterval` of the rotation that spent
    ///   it, is two tabs refreshing at once: a new access token and the session's current
    ///   refresh token, without advancing.
    /// - Any other spent token is treated as stolen: the session is revoked and 401.
    ///
    /// The token used is the one among `tokens` that verifies (a request may carry
    /// several `refreshToken` cookies, one planted by a same-site sibling). None: 401
    /// `Invalid or expired refresh token`. More than one: 401 too, because choosing
    /// would let a planted token of another account sign the browser into that account.
    public func refresh(tokens presented: [String], client: ClientInfo, logger: Logger) async throws -> RefreshResult {
        let candidates = presented.filter { !$0.isEmpty }
        guard !candidates.isEmpty else {
            AuthMetrics.refresh(.refused)
            throw AppError.refreshTokenMissing
        }
        try await enforce(limiters.refresh, key: client.rateLimitKey, action: "refresh", logger: logger)
        var verified: [RefreshClaims] = []
        for token in candidates.prefix(RefreshCookie.maximumCandidates) {
            if let claims = try? await verifier.verifyRefresh(token), !verified.contains(claims) {
                verified.append(claims)
            }
        }
        guard verified.count == 1, let claims = verified.first else {
            if verified.count > 1 { logger.warning("Several valid refresh tokens presented; refused") }
            AuthMetrics.refresh(.refused)
            throw AppError.invalidRefreshToken
        }
        RequestLogNotes.note(userID: claims.sub)
        var logger = logger
        logger[metadataKey: "auth.session.id"] = "\(claims.sid)"
        logger[metadataKey: "auth.user.id"] = "\(claims.sub)"

        // The usual refresh presents the current token: rotate it in one statement. Not
        // tried for a token this process knows to be spent (two tabs refreshing at once, a
        // replay), and a generation of Int.max names no session.
        let rotationSecond = currentSecond()
        let rotationDate = Date(timeIntervalSince1970: TimeInterval(rotationSecond))
        if claims.gen < Int.max, !rotations.isSpent(claims.sessionID, generation: claims.gen),
           let role = try await sessions.rotateIfCurrent(
            id: claims.sessionID, userID: claims.userID, generation: claims.gen, tokenVersion: claims.version, now: now(),
            rotatedAt: rotationDate, expiresAt: rotationDate.addingTimeInterval(TimeInterval(configuration.refreshTokenTTL)),
            logger: logger
        ) {
            rotations.rotated(claims.sessionID, to: claims.gen + 1)
            logger.debug("Refresh token rotated", metadata: ["auth.session.generation": "\(claims.gen + 1)"])
            AuthMetrics.refresh(.rotated)
            return tokens(
                userID: claims.userID, role: role, version: claims.version, session: claims.sessionID,
                generation: claims.gen + 1, issuedAt: rotationSecond
            )
        }

        // Otherwise read the session to learn why: a concurrent rotation (then this token
        // is the predecessor, within its grace window), an older token (reuse), or a
        // session or user that is gone.
        for _ in 0..<Self.rotationAttempts {
            let now = now()
            guard let (session, user) = try await sessions.findWithUser(id: claims.sessionID, logger: logger),
                  session.userID == claims.userID, session.revokedAt == nil, session.expiresAt > now,
                  let user, user.tokenVersion == claims.version
            else {
                AuthMetrics.refresh(.refused)
                throw AppError.sessionExpired
            }

            if claims.gen == session.generation {
                let second = currentSecond()
                let rotatedAt = Date(timeIntervalSince1970: TimeInterval(second))
                let expiresAt = rotatedAt.addingTimeInterval(TimeInterval(configuration.refreshTokenTTL))
                let won = try await sessions.rotate(
                    id: session.id, from: session.generation, rotatedAt: rotatedAt, expiresAt: expiresAt, logger: logger
                )
                // Lost the race to a concurrent refresh of the same token: look again.
                guard won else { continue }
                rotations.rotated(session.id, to: session.generation + 1)
                logger.debug("Refresh token rotated", metadata: ["auth.session.generation": "\(session.generation + 1)"])
                AuthMetrics.refresh(.rotated)
                return tokens(for: user, session: session.id, generation: session.generation + 1, issuedAt: second)
            }

            // Whole seconds on both sides: `rotatedAt` is the current token's integer `iat`.
            let rotatedAt = Int(session.rotatedAt.timeIntervalSince1970.rounded())
            // An interval of 0 switches the grace window off entirely (strict single use).
            let interval = configuration.refreshReuseInterval
            if claims.gen == session.generation - 1, interval > 0, currentSecond() - rotatedAt <= interval {
                logger.debug("Refresh token reused within grace window")
                AuthMetrics.refresh(.grace)
                return tokens(for: user, session: session.id, generation: session.generation, issuedAt: rotatedAt)
            }

            // An older token, or the predecessor after the window: someone else holds a copy.
            try await sessions.revoke(
                id: session.id, userID: session.userID, at: now,
                audit: event(.refreshReuseDetected, user: session.userID, session: session.id, client: client), logger: logger
            )
            await revocationsChanged(logger: logger)
            logger.warning("Refresh token reuse detected; session revoked")
            AuthMetrics.refresh(.reuseDetected)
            throw AppError.sessionExpired
        }
        AuthMetrics.refresh(.refused)
        throw AppError(.conflict, "Too many concurrent refresh requests")
    }

    /// A fresh access token plus the refresh token of `generation`, issued at `issuedAt`.
    private func tokens(for user: UserRecord, session: UUID, generation: Int, issuedAt: Int) -> RefreshResult {
        tokens(
            userID: user.id, role: user.role, version: user.tokenVersion, session: session, generation: generation,
            issuedAt: issuedAt
        )
    }
}
