import Foundation
import Logging

/// A page of users and the cursor of the next one (`nil` on the last page).
public struct UserPage: Sendable {
    public let users: [UserSummary]
    public let nextCursor: String?
}

/// A page of audit events, newest first, and the cursor of the next one.
public struct AuditPage: Sendable {
    public let events: [AuditEvent]
    public let nextCursor: String?
}

extension AuthService {
    /// Page sizes of every paged route: 1–100, 50 by default.
    public static let pageSizes = 1...100
    public static let defaultPageSize = 50

    /// Users for administration (SPEC.md §3.5), oldest first by creation then id, so a
    /// walk through the pages visits each user once even while users register (they join
    /// the end). 400 for a cursor this server did not issue.
    public func adminUsers(limit: Int, cursor: String?, emailPrefix: String?, logger: Logger) async throws -> UserPage {
        let position = try cursor.map { text throws(AppError) in try cursors.position(.users, text) }
        var users = try await users.page(emailPrefix: emailPrefix, after: position, limit: limit + 1, now: now(), logger: logger)
        var next: String?
        if users.count > limit {
            users.removeLast(users.count - limit)
            if let last = users.last { next = cursors.encode(.users, at: last.user.createdAt, id: last.user.id) }
        }
        return UserPage(users: users, nextCursor: next)
    }

    /// Checks, in the database, that the bearer of `claims` is still an admin holding a
    /// current token: a role change, deletion or sign-out-everywhere ends its admin rights
    /// at once, not when its access token expires. 401 `Access token revoked` for a deleted
    /// user or a stale `tokenVersion`; 403 `Forbidden` for a user who is no longer an admin.
    public func requireCurrentAdmin(_ claims: AccessClaims, logger: Logger) async throws {
        guard let user = try await users.find(id: claims.userID, logger: logger), user.tokenVersion == claims.version else {
            throw AppError.accessTokenRevoked
        }
        guard user.role == .admin else { throw AppError.forbidden }
    }

    /// One user; 404 `User not found`.
    public func adminUser(_ id: UUID, logger: Logger) async throws -> UserSummary {
        guard let summary = try await users.summary(id: id, now: now(), logger: logger) else { throw AppError.userNotFound }
        return summary
    }

    /// Changes a user's role. The user's sessions stay, and the next refresh carries the
    /// new role. 404 for an unknown user; 409 `Cannot remove the last admin`. `actor` is
    /// the admin who asked (`nil`: an operator's command).
    public func adminSetRole(
        _ id: UUID, to role: Role, actor: UUID?, client: ClientInfo? = nil, logger: Logger
    ) async throws -> UserSummary {
        let audit = event(.userRoleChanged, actor: actor, user: id, client: client)
        switch try await users.setRole(id: id, to: role, by: actor, at: now(), audit: audit, logger: logger) {
        case .notFound: throw AppError.userNotFound
        case .lastAdmin: throw AppError.lastAdmin
        case .forbidden: throw AppError.forbidden
        case .done: break
        }
        await revocationsChanged(logger: logger)
        logger.info("Role changed", metadata: ["auth.user.id": "\(id)", "auth.user.role": "\(role.rawValue)", "auth.actor.id": "\(actor.map { "\($0)" } ?? "operator")"])
        return try await adminUser(id, logger: logger)
    }

    /// Deletes a user and their sessions. 404; 409 `Cannot remove the last admin`.
    public func adminDelete(_ id: UUID, actor: UUID?, client: ClientInfo? = nil, logger: Logger) async throws {
        let audit = event(.userDeleted, actor: actor, user: id, client: client)
        switch try await users.delete(id: id, by: actor, at: now(), audit: audit, logger: logger) {
        case .notFound: throw AppError.userNotFound
        case .lastAdmin: throw AppError.lastAdmin
        case .forbidden: throw AppError.forbidden
        case .done: break
        }
        await revocationsChanged(logger: logger)
        logger.info("User deleted", metadata: ["auth.user.id": "\(id)", "auth.actor.id": "\(actor.map { "\($0)" } ?? "operator")"])
    }

    /// Signs a user out everywhere: every session revoked, `tokenVersion` incremented. 404.
    public func adminLogout(_ id: UUID, actor: UUID?, client: ClientInfo? = nil, logger: Logger) async throws {
        let audit = event(.userLoggedOutByAdmin, actor: actor, user: id, client: client)
        guard try await users.logoutEverywhere(id: id, at: now(), audit: audit, logger: logger) else { throw AppError.userNotFound }
        await revocationsChanged(logger: logger)
        logger.info("User logged out by admin", metadata: ["auth.user.id": "\(id)", "auth.actor.id": "\(actor.map { "\($0)" } ?? "operator")"])
    }

    /// Audit events, newest first, of `user` when given. 400 for a foreign cursor.
    public func auditEvents(user: UUID?, limit: Int, cursor: String?, logger: Logger) async throws -> AuditPage {
        guard let audit else { return AuditPage(events: [], nextCursor: nil) }
        let position = try cursor.map { text throws(AppError) in try cursors.position(.audit, text) }
        var events = try await audit.page(user: user, after: position, limit: limit + 1, logger: logger)
        var next: String?
        if events.count > limit {
            events.removeLast(events.count - limit)
            if let last = events.last { next = cursors.encode(.audit, at: last.at, id: last.id) }
        }
        return AuditPage(events: events, nextCursor: next)
    }

    /// A user by email, for the operator commands; `nil` when there is none.
    public func user(email: String, logger: Logger) async throws -> UserRecord? {
        guard let email = EmailAddress.normalize(email) else { return nil }
        return try await users.find(email: email, logger: logger)
    }
}
