import Foundation

/// A stored session: one per login or registration (per device). Refresh tokens are not
/// stored; `generation` and `rotatedAt` are enough to recognise the current one and its
/// immediate predecessor.
public struct SessionRecord: Sendable, Equatable {
    public var id: UUID
    public var userID: UUID
    /// Generation of the current refresh token; advanced by each rotation.
    public var generation: Int
    /// When the current generation was issued (whole seconds; the token's `iat`).
    public var rotatedAt: Date
    public var createdAt: Date
    public var lastUsedAt: Date
    /// Sliding expiry: the current refresh token's `exp`.
    public var expiresAt: Date
    public var revokedAt: Date?
    public var userAgent: String?
    public var ip: String?

    /// Creates a record.
    public init(
        id: UUID, userID: UUID, generation: Int, rotatedAt: Date, createdAt: Date, lastUsedAt: Date,
        expiresAt: Date, revokedAt: Date?, userAgent: String?, ip: String?
    ) {
        self.id = id
        self.userID = userID
        self.generation = generation
        self.rotatedAt = rotatedAt
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.userAgent = userAgent
        self.ip = ip
    }
}
