import Foundation
import Logging

/// One entry of the audit log (SPEC.md §3.5): what happened, when, to whom, by whom and
/// from where. Never a password, token, hash or cookie: the fields below are all it has.
public struct AuditEvent: Sendable, Equatable {
    /// The events recorded.
    public enum Kind: String, Sendable, CaseIterable {
        case userRegistered = "user.registered"
        case loginSucceeded = "login.succeeded"
        case loginFailed = "login.failed"
        case loginThrottled = "login.throttled"
        case refreshReuseDetected = "refresh.reuse_detected"
        case logout
        case sessionRevoked = "session.revoked"
        case passwordChanged = "password.changed"
        case userRoleChanged = "user.role_changed"
        case userDeleted = "user.deleted"
        case userLoggedOutByAdmin = "user.logged_out_by_admin"
    }

    public let id: UUID
    public let at: Date
    public let kind: Kind
    /// Who acted: the user themselves, an admin, or `nil` (an operator's command, or an
    /// anonymous client).
    public let actorID: UUID?
    /// The account the event is about.
    public let userID: UUID?
    public let sessionID: UUID?
    public let ip: String?
    public let userAgent: String?
    /// Only for failed or throttled logins: the address as typed, lower-cased.
    public let email: String?

    public init(
        id: UUID = UUID(), at: Date, kind: Kind, actorID: UUID? = nil, userID: UUID? = nil, sessionID: UUID? = nil,
        ip: String? = nil, userAgent: String? = nil, email: String? = nil
    ) {
        self.id = id
        self.at = at
        self.kind = kind
        self.actorID = actorID
        self.userID = userID
        self.sessionID = sessionID
        self.ip = ip
        self.userAgent = userAgent
        self.email = email
    }
}

/// Where a keyset page continues: strictly after the item of this time and id, in the
/// page's order (users: oldest first by creation; audit events: newest first).
public struct PagePosition: Sendable, Equatable {
    public let at: Date
    public let id: UUID

    public init(at: Date, id: UUID) {
        self.at = at
        self.id = id
    }
}

/// The audit log. Events that record a change are written by the repository method that
/// makes the change, in its transaction; this records the rest (failed and throttled
/// logins, which change nothing) and reads and prunes the log.
public protocol AuditRepository: Sendable {
    /// Records an event on its own.
    func record(_ event: AuditEvent, logger: Logger) async throws
    /// Up to `limit` events, newest first, of `user` if given, after `cursor` if given.
    func page(user: UUID?, after cursor: PagePosition?, limit: Int, logger: Logger) async throws -> [AuditEvent]
    /// Deletes at most `limit` events older than `cutoff`; how many it deleted.
    func deleteOlder(than cutoff: Date, limit: Int, logger: Logger) async throws -> Int
}
