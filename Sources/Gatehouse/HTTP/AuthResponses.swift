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
