import HTTPTypes
import Hummingbird

/// The one error type domain code throws: a status, a message that is safe to show a
/// client, optional field errors and extra headers (`Retry-After`, `Allow`).
///
/// It renders itself (`HTTPResponseError`). Anything that is not an `AppError` (or a
/// Hummingbird HTTP error) is rendered as a generic 500 by `GatehouseErrorMiddleware`, so
/// internal detail never reaches a client.
public struct AppError: Error, Sendable, Equatable {
    /// HTTP status to answer with.
    public let status: HTTPResponse.Status
    /// Client-safe message.
    public let message: String
    /// Per-field validation errors, if any.
    public let errors: [FieldError]
    /// Extra response headers.
    public let headers: HTTPFields

    /// Creates an error.
    public init(_ status: HTTPResponse.Status, _ message: String, errors: [FieldError] = [], headers: HTTPFields = [:]) {
        self.status = status
        self.message = message
        self.errors = errors
        self.headers = headers
    }

    /// A 400 built from field errors; the message names every failing field.
    public static func validation(_ errors: [FieldError]) -> AppError {
        let message = errors.map { "\($0.field) \($0.message)" }.joined(separator: "; ")
        return AppError(.badRequest, message, errors: errors)
    }

    /// A 429 `Too many requests` telling the client how many seconds to wait.
    public static func tooManyRequests(retryAfter seconds: Int) -> AppError {
        AppError(.tooManyRequests, "Too many requests", headers: [.retryAfter: String(max(seconds, 1))])
    }

    /// A 503 `Service busy`: password hashing is at capacity (`PasswordHashQueue`); the
    /// client may retry after `seconds`.
    public static func serviceBusy(retryAfter seconds: Int) -> AppError {
        AppError(.serviceUnavailable, "Service busy", headers: [.retryAfter: String(max(seconds, 1))])
    }

    /// A 401 with the given message (the middleware adds `WWW-Authenticate: Bearer`).
    public static func unauthorized(_ message: String) -> AppError {
        AppError(.unauthorized, message)
    }
}

extension AppError {
    /// 401: no credential (SPEC.md §3.2).
    public static let authenticationRequired = AppError.unauthorized("Authentication required")
    /// 401: the access token has expired.
    public static let accessTokenExpired = AppError.unauthorized("Access token expired")
    /// 401: any other bad access token.
    public static let invalidAccessToken = AppError.unauthorized("Invalid access token")
    /// 401: the token verifies, but a change since it was issued ended its right to act.
    public static let accessTokenRevoked = AppError.unauthorized("Access token revoked")
    /// 403: authenticated, but a policy (such as `RolePolicy("admin")`) says no. Pass it as
    /// `AuthorizationPolicyMiddleware(…, deniedError: AppError.forbidden)`.
    public static let forbidden = AppError(.forbidden, "Forbidden")
    static let refreshTokenMissing = AppError.unauthorized("Refresh token missing")
    static let invalidRefreshToken = AppError.unauthorized("Invalid or expired refresh token")
    static let sessionExpired = AppError.unauthorized("Session expired, please log in again")
    static let invalidCredentials = AppError.unauthorized("Invalid email or password")
    static let emailTaken = AppError(.conflict, "Email already registered")
    static let sessionNotFound = AppError(.notFound, "Session not found")
    static let userNotFound = AppError(.notFound, "User not found")
    static let lastAdmin = AppError(.conflict, "Cannot remove the last admin")
    static let invalidCursor = AppError(.badRequest, "Invalid cursor", errors: [FieldError(field: "cursor", message: "was not issued by this server")])
    static let currentPasswordIncorrect = AppError(
        .badRequest, "currentPassword is incorrect", errors: [FieldError(field: "currentPassword", message: "is incorrect")]
    )
    static let invalidJSON = AppError(.badRequest, "Invalid JSON body")
    static let notFound = AppError(.notFound, "Not found")
    static let bodyTooLarge = AppError(.contentTooLarge, "Request body too large")
    static let internalError = AppError(.internalServerError, "Internal server error")
    /// A dependency (the database) cannot be reached; the client may retry shortly.
    public static let serviceUnavailable = AppError(.serviceUnavailable, "Service unavailable")
}
