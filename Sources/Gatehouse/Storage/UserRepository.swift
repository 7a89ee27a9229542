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
    /// How many stored password hashes begin with each 7-character prefix (bcrypt's
    /// `$2b$12$`, which holds the cost): the login path makes an unknown email cost what
    /// the most common stored hash costs.
    func passwordHashPrefixCounts(logger: Logger) async throws -> [String: Int]
}

/// Errors a repository reports that the service turns into client answers.
public enum StorageError: Error, Sendable, Equatable {
    /// The unique index on email refused an insert.
    case duplicateEmail
}
