import FluentKit
import Foundation
import Gatehouse

/// A user row. `@unchecked Sendable` because Fluent models are classes with property
/// wrappers that Swift cannot prove Sendable; instances never cross tasks here (each is
/// created, read and dropped within one repository call).
final class UserModel: Model, @unchecked Sendable {
    static let schema = "gatehouse_users"

    @ID(key: .id) var id: UUID?
    @Field(key: "name") var name: String
    @Field(key: "email") var email: String
    @Field(key: "password_hash") var passwordHash: String
    @Field(key: "role") var role: String
    @Field(key: "token_version") var tokenVersion: Int
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "updated_at") var updatedAt: Date

    init() {}

    init(_ record: UserRecord) {
        self.id = record.id
        self.name = record.name
        self.email = record.email
        self.passwordHash = record.passwordHash
        self.role = record.role.rawValue
        self.tokenVersion = record.tokenVersion
        self.createdAt = record.createdAt
        self.updatedAt = record.updatedAt
    }

    /// The record, or `nil` for a row that does not make sense (unknown role): such a
    /// user is treated as absent rather than guessed at.
    var record: UserRecord? {
        guard let id, let role = Role(rawValue: role) else { return nil }
        return UserRecord(
            id: id, name: name, email: email, passwordHash: passwordHash, role: role,
            tokenVersion: tokenVersion, createdAt: createdAt, updatedAt: updatedAt
        )
    }
}
