import Foundation
import Logging

/// Stores users. Email uniqueness is the store's job (a unique index), never a
/// check-then-insert.
public protocol UserRepository: Sendable {
    /// Inserts a user; throws `StorageError.duplicateEmail` when the email is taken.
    func create(_ user: UserRecord, logger: Logger) async throws
    /// Finds a user by id.
    func find(id: UUID, logger: Logger) async throws -> UserRecord?
    /// Finds a user by (already normalised) email.
    func find(email: String, logger: Logger) async throws -> UserRecord?
    /// A registration, as one transaction: the user (signed in at creation), their first
    /// session and `audit`. Throws `StorageError.duplicateEmail` when the email is taken,
    /// and then nothing is stored.
    func register(_ user: UserRecord, session: SessionRecord, audit: AuditEvent, logger: Logger) async throws
    /// Signs a user out everywhere, as one transaction: increments `tokenVersion`
    /// (invalidating every outstanding refresh token), revokes every live session and
    /// records `audit`. Whether the user exists (nothing is recorded when not).
    func logoutEverywhere(id: UUID, at date: Date, audit: AuditEvent?, logger: Logger) async throws -> Bool
    /// Replaces the password hash if, and only if, it is still `old` (a concurrent
    /// password change wins over a rehash); whether it was replaced.
    func replacePasswordHash(id: UUID, from old: String, to new: String, at date: Date, logger: Logger) async throws -> Bool
    /// A password change, as one transaction: if the user's hash is still `old`, stores
    /// `new`, increments `tokenVersion`, advances the session `keeping` one generation (it
    /// must be the user's and live at `date`) and revokes every other session of the user.
    /// Returns the new token version and the kept session's new generation; `nil` when the
    /// hash was no longer `old` or the session not live (then nothing changed).
    func changePassword(
        id: UUID, from old: String, to new: String, keeping session: UUID, at date: Date, audit: AuditEvent?, logger: Logger
    ) async throws -> PasswordChange?
    /// A page of users for administration, in a stable order (oldest first by creation,
    /// then id), after `cursor` when given, with emails starting with `emailPrefix` when
    /// given; each with its last sign-in and its live sessions at `now`.
    func page(emailPrefix: String?, after cursor: PagePosition?, limit: Int, now: Date, logger: Logger) async throws -> [UserSummary]
    /// One user for administration.
    func summary(id: UUID, now: Date, logger: Logger) async throws -> UserSummary?
    /// Changes a user's role, as one transaction with `audit`, refusing to demote the last
    /// admin even when two admins demote each other at the same moment, and refusing an
    /// `actor` (when given) that is no longer an admin by then.
    func setRole(id: UUID, to role: Role, by actor: UUID?, at date: Date, audit: AuditEvent?, logger: Logger) async throws -> AdminChange
    /// Deletes a user and their sessions, as one transaction with `audit`, refusing to
    /// delete the last admin, and refusing an `actor` that is no longer an admin.
    func delete(id: UUID, by actor: UUID?, at date: Date, audit: AuditEvent?, logger: Logger) async throws -> AdminChange
    /// How many stored password hashes begin with each 7-character prefix (bcrypt's
    /// `$2b$12$`, which holds the cost): the login path makes an unknown email cost what
    /// the most common stored hash costs.
    func passwordHashPrefixCounts(logger: Logger) async throws -> [String: Int]
}

/// What a committed password change left: the user's new token version and role (as
/// the change saw them, so the new tokens carry no stale role) and the generation the
/// caller's session moved to.
public struct PasswordChange: Sendable, Equatable {
    public let tokenVersion: Int
    public let role: Role
    public let generation: Int

    public init(tokenVersion: Int, role: Role, generation: Int) {
        self.tokenVersion = tokenVersion
        self.role = role
        self.generation = generation
    }
}

/// A user as administration sees it.
public struct UserSummary: Sendable, Equatable {
    public let user: UserRecord
    public let lastLoginAt: Date?
    public let activeSessions: Int

    public init(user: UserRecord, lastLoginAt: Date?, activeSessions: Int) {
        self.user = user
        self.lastLoginAt = lastLoginAt
        self.activeSessions = activeSessions
    }
}

/// The outcome of an administrative change.
public enum AdminChange: Sendable, Equatable {
    case done
    case notFound
    /// Refused: it would leave no admin.
    case lastAdmin
    /// Refused: the actor is no longer an admin.
    case forbidden
}

/// Errors a repository reports that the service turns into client answers.
public enum StorageError: Error, Sendable, Equatable {
    /// The unique index on email refused an insert.
    case duplicateEmail
    /// The user a session was being opened for was deleted meanwhile.
    case userGone
}
