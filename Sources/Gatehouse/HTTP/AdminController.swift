import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import Logging

/// The administration routes of SPEC.md §3.5, mounted under a group that requires the
/// `admin` role through hummingbird-auth's `AuthorizationPolicyMiddleware` and `RolePolicy`:
/// `GET users`, `GET users/{id}`, `PATCH users/{id}`, `DELETE users/{id}`,
/// `POST users/{id}/logout`, `GET audit`.
///
/// `addRoutes(to:)` builds the group itself (Gatehouse's authenticator, then
/// `RequireAuthentication`, then the role policy, then `CurrentAdminMiddleware`), so a
/// route can never be mounted without its guard: no or bad token → the 401s of §3.2, a
/// `user` → 403 `Forbidden`, an admin demoted, deleted or signed out since the token was
/// issued → 403 / 401 `Access token revoked`.
public struct AdminController<Context: AuthRequestContext>: Sendable where Context.Identity == AccessClaims {
    let service: AuthService
    let clients: ClientInfoResolver<Context>

    /// Creates the controller for a context that knows its socket peer.
    public init(service: AuthService, configuration: GatehouseConfiguration) where Context: RemoteAddressRequestContext {
        self.init(service: service, configuration: configuration, peerAddress: .remoteAddress)
    }

    /// Creates the controller, with the client's address (for the audit log) found as
    /// `peerAddress` says.
    public init(service: AuthService, configuration: GatehouseConfiguration, peerAddress: PeerAddress<Context>) {
        self.service = service
        self.clients = ClientInfoResolver(configuration: configuration, peerAddress: peerAddress)
    }

    var endpoints: [Endpoint<Context>] {
        [
            Endpoint(.get, "users", listUsers),
            Endpoint(.get, "users/:id", getUser),
            Endpoint(.patch, "users/:id", patchUser),
            Endpoint(.delete, "users/:id", deleteUser),
            Endpoint(.post, "users/:id/logout", logoutUser),
            Endpoint(.get, "audit", listAudit),
        ]
    }

    /// Adds the routes under `path` of `router` (typically `router.group("api/v1")` and
    /// `"admin"`), behind the authenticator, `RequireAuthentication` and the admin policy.
    public func addRoutes(to router: some RouterMethods<Context>, path: String = "admin") {
        let group = router.group(RouterPath(path))
            .add(middleware: GatehouseAuthenticator<Context>(verifier: service.verifier))
            .add(middleware: RequireAuthentication<Context>(verifier: service.verifier))
            .add(middleware: AuthorizationPolicyMiddleware(RolePolicy(Role.admin.rawValue), deniedError: AppError.forbidden, context: Context.self))
            .add(middleware: CurrentAdminMiddleware<Context>(service: service))
        endpoints.add(to: group)
    }

    /// Records the routes, mounted at `basePath`, in a table for 405 answers.
    public func record(in table: inout RouteTable, basePath: String = "/api/v1/admin") {
        endpoints.record(in: &table, basePath: basePath)
    }

    @Sendable func listUsers(_ request: Request, context: Context) async throws -> Response {
        let query = request.uri.queryParameters
        let limit = try Self.limit(query.get("limit"))
        var prefix: String?
        if let email = query.get("email") {
            // A prefix of an address: printable, and no longer than an address may be.
            guard email.utf8.count <= EmailAddress.maximumLength,
                  !email.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
            else {
                throw AppError.validation([FieldError(field: "email", message: "must be at most 254 printable characters")])
            }
            let trimmed = email.trimmingASCIIWhitespace()
            prefix = trimmed.isEmpty ? nil : trimmed
        }
        let page = try await service.adminUsers(limit: limit, cursor: query.get("cursor"), emailPrefix: prefix, logger: context.logger)
        return try .json(AdminUsersResponse(users: page.users.map(AdminUserResponse.init), nextCursor: page.nextCursor), headers: .noStore)
    }

    @Sendable func getUser(_ request: Request, context: Context) async throws -> Response {
        let summary = try await service.adminUser(try Self.userID(context), logger: context.logger)
        return try .json(AdminUserResponse(summary), headers: .noStore)
    }

    @Sendable func patchUser(_ request: Request, context: Context) async throws -> Response {
        let id = try Self.userID(context)
        // Only `role` may be set: `tokenVersion`, `passwordHash`, `id` or anything else is
        // refused by name (400), never silently assigned.
        let fields = try await JSONBody.object(from: request).strings(["role"])
        guard let role = Role(rawValue: fields["role"]!) else {
            throw AppError.validation([FieldError(field: "role", message: "must be user or admin")])
        }
        let admin = try context.requireIdentity()
        let summary = try await service.adminSetRole(
            id, to: role, actor: admin.userID, client: clients.client(request, context), logger: context.logger
        )
        return try .json(AdminUserResponse(summary), headers: .noStore)
    }

    @Sendable func deleteUser(_ request: Request, context: Context) async throws -> Response {
        let id = try Self.userID(context)
        let admin = try context.requireIdentity()
        try await service.adminDelete(id, actor: admin.userID, client: clients.client(request, context), logger: context.logger)
        return Response(status: .noContent, headers: .noStore)
    }

    @Sendable func logoutUser(_ request: Request, context: Context) async throws -> Response {
        let id = try Self.userID(context)
        let admin = try context.requireIdentity()
        try await service.adminLogout(id, actor: admin.userID, client: clients.client(request, context), logger: context.logger)
        return Response(status: .noContent, headers: .noStore)
    }

    @Sendable func listAudit(_ request: Request, context: Context) async throws -> Response {
        let query = request.uri.queryParameters
        let limit = try Self.limit(query.get("limit"))
        var user: UUID?
        if let text = query.get("user") {
            guard let id = UUID(uuidString: text) else {
                throw AppError.validation([FieldError(field: "user", message: "must be a user id")])
            }
            user = id
        }
        let page = try await service.auditEvents(user: user, limit: limit, cursor: query.get("cursor"), logger: context.logger)
        return try .json(AuditEventsResponse(events: page.events.map(AuditEventResponse.init), nextCursor: page.nextCursor), headers: .noStore)
    }

    /// `limit`: 1–100, 50 when absent.
    static func limit(_ text: String?) throws(AppError) -> Int {
        guard let text else { return AuthService.defaultPageSize }
        guard text.utf8.count <= 3, text.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(text),
              AuthService.pageSizes.contains(value)
        else {
            throw AppError.validation([FieldError(field: "limit", message: "must be an integer from 1 to 100")])
        }
        return value
    }

    /// The `{id}` of the path; not a UUID: no such user.
    static func userID(_ context: Context) throws(AppError) -> UUID {
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw AppError.userNotFound }
        return id
    }
}
