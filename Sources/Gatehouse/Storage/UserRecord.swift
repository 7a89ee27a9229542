import Foundation

/// A stored user, as repositories return it. `passwordHash` never leaves the service.
public struct UserRecord: Sendable, Equatable {
    public var id: UUID
    public var name: String
    public var email: String
    public var passwordHash: String
    public var role: Role
    public var tokenVersion: Int
    public var createdAt: Date
    public var updatedAt: Date

    /// Creates a record.
    public init(
        id: UUID, name: String, email: String, passwordHash: String, role: Role,
        tokenVersion: Int, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.name = name
        self.email = email
        self.passwordHash = passwordHash
        self.role = role
        self.tokenVersion = tokenVersion
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
