import FluentKit
import Foundation
import Gatehouse

/// A session row. `@unchecked Sendable` for the same reason as `UserModel`.
final class SessionModel: Model, @unchecked Sendable {
    static let schema = "gatehouse_sessions"

    @ID(key: .id) var id: UUID?
    @Field(key: "user_id") var userID: UUID
    @Field(key: "generation") var generation: Int
    @Field(key: "rotated_at") var rotatedAt: Date
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "last_used_at") var lastUsedAt: Date
    @Field(key: "expires_at") var expiresAt: Date
    @OptionalField(key: "revoked_at") var revokedAt: Date?
    @OptionalField(key: "user_agent") var userAgent: String?
    @OptionalField(key: "ip") var ip: String?

    init() {}

    init(_ record: SessionRecord) {
        self.id = record.id
        self.userID = record.userID
        self.generation = record.generation
        self.rotatedAt = record.rotatedAt
        self.createdAt = record.createdAt
        self.lastUsedAt = record.lastUsedAt
        self.expiresAt = record.expiresAt
        self.revokedAt = record.revokedAt
        self.userAgent = record.userAgent
        self.ip = record.ip
    }

    var record: SessionRecord? {
        guard let id else { return nil }
        return SessionRecord(
            id: id, userID: userID, generation: generation, rotatedAt: rotatedAt, createdAt: createdAt,
            lastUsedAt: lastUsedAt, expiresAt: expiresAt, revokedAt: revokedAt, userAgent: userAgent, ip: ip
        )
    }
}
