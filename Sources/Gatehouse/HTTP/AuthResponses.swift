import Foundation
/// The public view of a user: never the hash, never the token version.
public struct UserResponse: Codable, Sendable, Equatable {
    public let id: String
    public let name: String
    public let email: String
    public let role: Role

    init(_ user: UserRecord) {
        self.id = user.id.uuidString.lowercased()
        self.name = user.name
        self.email = user.email
        self.role = user.role
    }
}

/// `{accessToken, user}`: the body of register and login.
public struct AuthResponse: Codable, Sendable, Equatable {
    public let accessToken: String
    public let user: UserResponse
}

/// `{accessToken}`: the body of refresh.
public struct AccessTokenResponse: Codable, Sendable, Equatable {
    public let accessToken: String
}

/// `{"sessions":[…]}`: the body of `GET auth/sessions`.
public struct SessionsResponse: Codable, Sendable, Equatable {
    public let sessions: [SessionResponse]
}

/// One session as its owner sees it. Times are RFC 3339 UTC; `userAgent` and `ip` are
/// `null` when unknown (always present, so clients need not guess).
public struct SessionResponse: Codable, Sendable, Equatable {
    public let id: String
    public let createdAt: String
    public let lastUsedAt: String
    public let expiresAt: String
    public let userAgent: String?
    public let ip: String?
    public let current: Bool

    init(_ session: SessionRecord, current: Bool) {
        self.id = session.id.uuidString.lowercased()
        self.createdAt = RFC3339.string(session.createdAt)
        self.lastUsedAt = RFC3339.string(session.lastUsedAt)
        self.expiresAt = RFC3339.string(session.expiresAt)
        self.userAgent = session.userAgent
        self.ip = session.ip
        self.current = current
    }

    enum CodingKeys: String, CodingKey {
        case id, createdAt, lastUsedAt, expiresAt, userAgent, ip, current
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(lastUsedAt, forKey: .lastUsedAt)
        try container.encode(expiresAt, forKey: .expiresAt)
        // Explicit nulls (the synthesised encoding would leave the keys out).
        try container.encode(userAgent, forKey: .userAgent)
        try container.encode(ip, forKey: .ip)
        try container.encode(current, forKey: .current)
    }
}

/// Times in response bodies: RFC 3339 in UTC, whole seconds (`2026-11-30T18:00:00Z`).
enum RFC3339 {
    static func string(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZone: .gmt))
    }
}

/// `{"status":"error","message":…,"errors":[…]}`: every error body.
public struct ErrorResponse: Codable, Sendable, Equatable {
    public let status: String
    public let message: String
    public let errors: [FieldError]?

    init(message: String, errors: [FieldError]) {
        self.status = "error"
        self.message = message
        self.errors = errors.isEmpty ? nil : errors
    }
}

/// A user as an admin sees it (never the hash, never the token version).
public struct AdminUserResponse: Encodable, Sendable, Equatable {
    public let id: String
    public let name: String
    public let email: String
    public let role: Role
    public let createdAt: String
    public let updatedAt: String
    public let lastLoginAt: String?
    public let activeSessions: Int

    /// The public view of `summary`.
    public init(_ summary: UserSummary) {
        self.id = summary.user.id.uuidString.lowercased()
        self.name = summary.user.name
        self.email = summary.user.email
        self.role = summary.user.role
        self.createdAt = RFC3339.string(summary.user.createdAt)
        self.updatedAt = RFC3339.string(summary.user.updatedAt)
        self.lastLoginAt = summary.lastLoginAt.map(RFC3339.string)
        self.activeSessions = summary.activeSessions
    }

    enum CodingKeys: String, CodingKey {
        case id, name, email, role, createdAt, updatedAt, lastLoginAt, activeSessions
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(email, forKey: .email)
        try container.encode(role, forKey: .role)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encode(lastLoginAt, forKey: .lastLoginAt)
        try container.encode(activeSessions, forKey: .activeSessions)
    }
}

/// `{"users":[…],"nextCursor":…}`.
public struct AdminUsersResponse: Encodable, Sendable {
    public let users: [AdminUserResponse]
    public let nextCursor: String?

    enum CodingKeys: String, CodingKey { case users, nextCursor }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(users, forKey: .users)
        try container.encode(nextCursor, forKey: .nextCursor)
    }
}

/// One audit event in `GET admin/audit`.
public struct AuditEventResponse: Encodable, Sendable, Equatable {
    public let id: String
    public let at: String
    public let event: String
    public let actorId: String?
    public let userId: String?
    public let sessionId: String?
    public let ip: String?
    public let userAgent: String?
    public let email: String?

    init(_ event: AuditEvent) {
        self.id = event.id.uuidString.lowercased()
        self.at = RFC3339.string(event.at)
        self.event = event.kind.rawValue
        self.actorId = event.actorID?.uuidString.lowercased()
        self.userId = event.userID?.uuidString.lowercased()
        self.sessionId = event.sessionID?.uuidString.lowercased()
        self.ip = event.ip
        self.userAgent = event.userAgent
        self.email = event.email
    }

    enum CodingKeys: String, CodingKey {
        case id, at, event, actorId, userId, sessionId, ip, userAgent, email
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(at, forKey: .at)
        try container.encode(event, forKey: .event)
        try container.encode(actorId, forKey: .actorId)
        try container.encode(userId, forKey: .userId)
        try container.encode(sessionId, forKey: .sessionId)
        try container.encode(ip, forKey: .ip)
        try container.encode(userAgent, forKey: .userAgent)
        try container.encode(email, forKey: .email)
    }
}

/// `{"events":[…],"nextCursor":…}`.
public struct AuditEventsResponse: Encodable, Sendable {
    public let events: [AuditEventResponse]
    public let nextCursor: String?

    enum CodingKeys: String, CodingKey { case events, nextCursor }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(events, forKey: .events)
        try container.encode(nextCursor, forKey: .nextCursor)
    }
}
