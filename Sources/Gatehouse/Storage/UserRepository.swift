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
    /// Increments `tokenVersion`, invalidating every outstanding refresh token.
    func incrementTokenVersion(id: UUID, at date: Date, logger: Logger) async throws
    /// Replaces the password hash if, and only if, it is still `old` (a concurrent
    /// password change wins over a rehash); whether it was replaced.
    func replacePasswordHash(id: UUID, from old: String, to new: String, at date: Date, logger: Logger) async throws -> Bool
    /// A password change, as one transaction: if the user's hash is still `old`, stores
    /// `new`, increments `tokenVersion`, advances the session `keeping` one generation (it
    /// must be the user's and live at `date`) and revokes every other session of the user.
    /// Returns the new token version and the kept session's new generation; `nil` when the
    /// hash was no longer `old` or the session not live (then nothing changed).
    func changePassword(
        id: UUID, from old: String, to new: String, keeping session: UUID, at date: Date, logger: Logger
    ) async throws -> PasswordChange?
    /// How many stored password hashes begin with each 7-character prefix (bcrypt's
    /// `$2b$12$`, which holds the cost): the login path makes an unknown email cost what
    /// the most common stored hash costs.
    func passwordHashPrefixCounts(logger: Logger) async throws -> [String: Int]
}

/// What a committed password change left: the user's new token version and the
/// generation the caller's session moved to.
public struct PasswordChange: Sendable, Equatable {
    public let tokenVersion: Int
    public let generation: Int

    public init(tokenVersion: Int, generation: Int) {
        self.tokenVersion = tokenVersion
        self.generation = generation
    }
}

/// Errors a repository reports that the service turns into client answers.
public enum StorageError: Error, Sendable, Equatable {
    /// The unique index on email refused an insert.
    case duplicateEmail
}
