import Foundation
import Logging

/// Stores sessions. Rotation is a conditional update so two concurrent refreshes of one
/// token can never both advance a session.
public protocol SessionRepository: Sendable {
    /// Inserts a session (a sign-in: the user's `lastLoginAt` becomes its creation), and
    /// `audit` with it in one transaction. Throws `StorageError.userGone` when the user
    /// was deleted meanwhile.
    func create(_ session: SessionRecord, audit: AuditEvent?, logger: Logger) async throws
    /// Finds a session by id.
    func find(id: UUID, logger: Logger) async throws -> SessionRecord?
    /// Finds a session and its user (`nil` when the user is gone), in one round trip
    /// where the store allows: every refresh needs both.
    func findWithUser(id: UUID, logger: Logger) async throws -> (session: SessionRecord, user: UserRecord?)?
    /// Advances the session from `generation` to `generation + 1` if, and only if, it is
    /// still at `generation` and not revoked. Returns whether this call did it.
    func rotate(
        id: UUID, from generation: Int, rotatedAt: Date, expiresAt: Date, logger: Logger
    ) async throws -> Bool
    /// A refresh's rotation in one step, for the common case: advances the session from
    /// `generation` to `generation + 1` if, and only if, it is still at `generation`, belongs
    /// to `userID`, is neither revoked nor expired at `now`, and its user still exists with a
    /// known role and `tokenVersion`. Returns the user's role when this call advanced it;
    /// `nil` otherwise, and then the caller reads the session to learn why (an older token,
    /// a concurrent rotation, a revoked or expired session).
    func rotateIfCurrent(
        id: UUID, userID: UUID, generation: Int, tokenVersion: Int, now: Date, rotatedAt: Date, expiresAt: Date,
        logger: Logger
    ) async throws -> Role?
    /// The user's live sessions (neither revoked nor expired at `now`), most recently used
    /// first.
    func listLive(userID: UUID, now: Date, logger: Logger) async throws -> [SessionRecord]
    /// Revokes one live session of a user; whether there was one to revoke (`false` for
    /// an unknown id, another user's session, or one already revoked or expired).
    /// `audit` is recorded with it, in one transaction, when it revoked one.
    func revokeLive(id: UUID, userID: UUID, at date: Date, audit: AuditEvent?, logger: Logger) async throws -> Bool
    /// Revokes one session of a user (no-op when already revoked or not theirs), and
    /// records `audit` with it in one transaction when it revoked it.
    func revoke(id: UUID, userID: UUID, at date: Date, audit: AuditEvent?, logger: Logger) async throws
    /// Revokes every live session of a user, except `exceptID` when given, and records
    /// `audit` with it in one transaction when it revoked any.
    func revokeAll(userID: UUID, except exceptID: UUID?, at date: Date, audit: AuditEvent?, logger: Logger) async throws
    /// Deletes at most `limit` sessions that expired or were revoked before `cutoff`;
    /// returns how many it deleted (fewer than `limit`: none are left).
    func deleteInactive(before cutoff: Date, limit: Int, logger: Logger) async throws -> Int
}
