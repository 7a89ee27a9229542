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
