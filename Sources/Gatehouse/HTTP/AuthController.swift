import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import Logging

/// The routes of SPEC.md §3.2 and §3.4 as a mountable collection:
/// `POST auth/register`, `POST auth/login`, `POST auth/refresh`, `POST auth/logout`,
/// `GET auth/me`, `GET users/me`, `GET auth/user`, `GET auth/sessions`, `DELETE auth/sessions/{id}`,
/// `POST auth/password`, relative to wherever they are mounted (`/api/v1`).
///
/// Request parsing and response shaping only; every decision is `AuthService`'s. Works
/// with any request context: its own protected routes verify the Bearer token
/// themselves, so your context's identity can be your own type. Errors are `AppError`s,
/// which render themselves in Gatehouse's JSON shape with or without
/// `GatehouseErrorMiddleware`.
///
/// Per-client limits and session records need the client's address. A context that is a
/// `RemoteAddressRequestContext` (such as `GatehouseContext`) gives the socket peer; for
/// any other context you must say how to find it, or opt in to having none, with
/// `peerAddress:`. There is no silent default: without an address every client would
/// share one rate-limit bucket and one hashing share.
public struct AuthController<Context: RequestContext>: Sendable {
    let service: AuthService
    let cookie: RefreshCookie
    let clients: ClientInfoResolver<Context>

    /// Creates the controller for a context that knows its socket peer.
    /// `refreshCookiePath` must be the full path of the refresh route as mounted.
    public init(service: AuthService, configuration: GatehouseConfiguration, refreshCookiePath: String = "/api/v1/auth/refresh")
    where Context: RemoteAddressRequestContext {
        self.init(service: service, configuration: configuration, refreshCookiePath: refreshCookiePath, peerAddress: .remoteAddress)
    }

    /// Creates the controller, with the client's address found as `peerAddress` says.
    public init(
        service: AuthService, configuration: GatehouseConfiguration, refreshCookiePath: String = "/api/v1/auth/refresh",
        peerAddress: PeerAddress<Context>
    ) {
        self.service = service
        self.cookie = RefreshCookie(path: refreshCookiePath, maxAge: configuration.refreshTokenTTL, secure: configuration.secureCookies)
        self.clients = ClientInfoResolver(configuration: configuration, peerAddress: peerAddress)
    }

    var endpoints: [Endpoint<Context>] {
        [
            Endpoint(.post, "auth/register", register),
            Endpoint(.post, "auth/login", login),
            Endpoint(.post, "auth/refresh", refresh),
            Endpoint(.post, "auth/logout", logout),
            Endpoint(.get, "auth/me", me),
            Endpoint(.get, "users/me", me),
            Endpoint(.get, "auth/user", account),
            Endpoint(.get, "auth/sessions", listSessions),
            Endpoint(.delete, "auth/sessions/:id", deleteSession),
            Endpoint(.post, "auth/password", changePassword),
        ]
    }

    /// Adds the routes to a router or group (typically `router.group("api/v1")`).
    public func addRoutes(to router: some RouterMethods<Context>) {
        endpoints.add(to: router)
    }

    /// Records the routes, mounted at `basePath`, in a table for 405 answers.
    public func record(in table: inout RouteTable, basePath: String = "/api/v1") {
        endpoints.record(in: &table, basePath: basePath)
    }

    @Sendable func register(_ request: Request, context: Context) async throws -> Response {
        let fields = try await JSONBody.object(from: request).strings(["name", "email", "password"])
        let registration = try Registration.validate(name: fields["name"]!, email: fields["email"]!, password: fields["password"]!)
        let result = try await service.register(registration, client: client(request, context), logger: context.logger)
        return try authResponse(result, status: .created)
    }

    @Sendable func login(_ request: Request, context: Context) async throws -> Response {
        let fields = try await JSONBody.object(from: request).strings(["email", "password"])
        let result = try await service.login(
            email: fields["email"]!, password: fields["password"]!, client: client(request, context), logger: context.logger
        )
        return try authResponse(result, status: .ok)
    }

    @Sendable func refresh(_ request: Request, context: Context) async throws -> Response {
        let result: RefreshResult
        do {
            result = try await service.refresh(
                tokens: RefreshCookie.tokens(in: request), client: client(request, context), logger: context.logger
            )
        } catch let error as AppError where error.status == .unauthorized {
            // Whatever the cookie held can never refresh again (or is ambiguous): clear it,
            // so the browser stops sending it.
            var headers = error.headers
            headers[.setCookie] = cookie.clearing
            throw AppError(error.status, error.message, errors: error.errors, headers: headers)
        }
        var headers = HTTPFields.noStore
        headers[.setCookie] = cookie.setting(result.refreshToken)
        return try .json(AccessTokenResponse(accessToken: result.accessToken), headers: headers)
    }

    @Sendable func logout(_ request: Request, context: Context) async throws -> Response {
        let claims = try service.verifier.requireBearerClaims(in: request.headers)
        let scope: LogoutScope
        switch request.uri.queryParameters.get("scope") {
        case nil: scope = .all
        case "local": scope = .local
        case "others": scope = .others
        default: throw AppError(.badRequest, "scope must be local or others", errors: [FieldError(field: "scope", message: "must be local or others")])
        }
        try await service.logout(claims, scope: scope, client: client(request, context), logger: context.logger)
        var headers = HTTPFields.noStore
        // `others` keeps this device signed in, so its cookie stays.
        if scope != .others {
            headers[.setCookie] = cookie.clearing
        }
        return Response(status: .noContent, headers: headers)
    }

    @Sendable func me(_ request: Request, context: Context) async throws -> Response {
        .json(bytes: try service.verifier.requireBearerClaims(in: request.headers).json, headers: .noStore)
    }

    @Sendable func account(_ request: Request, context: Context) async throws -> Response {
        let claims = try service.verifier.requireBearerClaims(in: request.headers)
        return try .json(UserResponse(try await service.account(of: claims, logger: context.logger)), headers: .noStore)
    }

    @Sendable func listSessions(_ request: Request, context: Context) async throws -> Response {
        let claims = try service.verifier.requireBearerClaims(in: request.headers)
        let sessions = try await service.sessions(of: claims, logger: context.logger)
        let current = claims.sessionID
        return try .json(SessionsResponse(sessions: sessions.map { SessionResponse($0, current: $0.id == current) }), headers: .noStore)
    }

    @Sendable func deleteSession(_ request: Request, context: Context) async throws -> Response {
        let claims = try service.verifier.requireBearerClaims(in: request.headers)
        // Not a UUID: no such session, the same answer as an unknown one.
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw AppError.sessionNotFound }
        try await service.revokeSession(id, of: claims, client: client(request, context), logger: context.logger)
        var headers = HTTPFields.noStore
        // Revoking this device's own session signs it out, like `logout?scope=local`.
        if id == claims.sessionID {
            headers[.setCookie] = cookie.clearing
        }
        return Response(status: .noContent, headers: headers)
    }

    @Sendable func changePassword(_ request: Request, context: Context) async throws -> Response {
        let claims = try service.verifier.requireBearerClaims(in: request.headers)
        let fields = try await JSONBody.object(from: request).strings(["currentPassword", "newPassword"])
        let result = try await service.changePassword(
            claims, currentPassword: fields["currentPassword"]!, newPassword: fields["newPassword"]!,
            client: client(request, context), logger: context.logger
        )
        var headers = HTTPFields.noStore
        headers[.setCookie] = cookie.setting(result.refreshToken)
        return try .json(AccessTokenResponse(accessToken: result.accessToken), headers: headers)
    }

    private func authResponse(_ result: AuthResult, status: HTTPResponse.Status) throws -> Response {
        RequestLogNotes.note(userID: result.user.id.uuidString.lowercased())
        var headers = HTTPFields.noStore
        headers[.setCookie] = cookie.setting(result.refreshToken)
        return try .json(AuthResponse(accessToken: result.accessToken, user: UserResponse(result.user)), status: status, headers: headers)
    }

    private func client(_ request: Request, _ context: Context) -> ClientInfo {
        clients.client(request, context)
    }
}

/// How `AuthController` finds the socket peer of a request.
public struct PeerAddress<Context: RequestContext>: Sendable {
    let address: @Sendable (Request, Context) -> String?

    /// Whatever `address` says (for a context that keeps the peer elsewhere).
    public static func custom(_ address: @escaping @Sendable (Request, Context) -> String?) -> PeerAddress {
        PeerAddress(address: address)
    }

    /// No address at all: an explicit opt-in to every client sharing one per-IP rate-limit
    /// bucket (unless `TRUST_PROXY` names the client from `X-Forwarded-For`) and sessions
    /// recorded without an IP. Only for deployments where that is true anyway.
    public static var unavailable: PeerAddress { PeerAddress { _, _ in nil } }
}

extension PeerAddress where Context: RemoteAddressRequestContext {
    /// The context's `remoteAddress` (Hummingbird's `RemoteAddressRequestContext`).
    public static var remoteAddress: PeerAddress {
        PeerAddress { _, context in
            guard let address = context.remoteAddress else { return nil }
            // IPv4 written here: NIO's `ipAddress` goes through glibc's `inet_ntop`, which
            // formats with `sprintf`, and the request log asks on every request.
            if case .v4(let v4) = address {
                return withUnsafeBytes(of: v4.address.sin_addr) { IPAddress.dottedDecimal($0) }
            }
            return address.ipAddress
        }
    }
}
