import HTTPTypes
import Hummingbird
import HummingbirdAuth
import Logging

/// The routes of SPEC.md §3.2 as a mountable collection:
/// `POST auth/register`, `POST auth/login`, `POST auth/refresh`, `POST auth/logout`,
/// `GET auth/me`, `GET users/me`, relative to wherever they are mounted (`/api/v1`).
///
/// Request parsing and response shaping only; every decision is `AuthService`'s.
public struct AuthController<Context: GatehouseRequestContext>: Sendable {
    let service: AuthService
    let cookie: RefreshCookie
    let addresses: ClientAddressResolver

    /// Creates the controller. `refreshCookiePath` must be the full path of the refresh
    /// route as mounted.
    public init(service: AuthService, configuration: GatehouseConfiguration, refreshCookiePath: String = "/api/v1/auth/refresh") {
        self.service = service
        self.cookie = RefreshCookie(path: refreshCookiePath, maxAge: configuration.refreshTokenTTL, secure: configuration.secureCookies)
        self.addresses = ClientAddressResolver(trustedProxies: configuration.trustedProxies)
    }

    typealias Handler = @Sendable (Request, Context) async throws -> Response

    struct Endpoint: Sendable {
        let method: HTTPRequest.Method
        let path: String
        let authenticated: Bool
        let handler: Handler
    }

    var endpoints: [Endpoint] {
        [
            Endpoint(method: .post, path: "auth/register", authenticated: false, handler: register),
            Endpoint(method: .post, path: "auth/login", authenticated: false, handler: login),
            Endpoint(method: .post, path: "auth/refresh", authenticated: false, handler: refresh),
            Endpoint(method: .post, path: "auth/logout", authenticated: true, handler: logout),
            Endpoint(method: .get, path: "auth/me", authenticated: true, handler: me),
            Endpoint(method: .get, path: "users/me", authenticated: true, handler: me),
        ]
    }

    /// Adds the routes to a router or group (typically `router.group("api/v1")`).
    public func addRoutes(to router: some RouterMethods<Context>) {
        let protected = router.group().add(middleware: RequireAuthMiddleware<Context>(verifier: service.verifier))
        for endpoint in endpoints {
            if endpoint.authenticated {
                protected.on(RouterPath(endpoint.path), method: endpoint.method, use: endpoint.handler)
            } else {
                router.on(RouterPath(endpoint.path), method: endpoint.method, use: endpoint.handler)
            }
        }
    }

    /// Records the routes, mounted at `basePath`, in a table for 405 answers.
    public func record(in table: inout RouteTable, basePath: String = "/api/v1") {
        for endpoint in endpoints {
            table.add(endpoint.method, basePath + "/" + endpoint.path)
        }
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
        let claims = try context.requireIdentity()
        let scope: LogoutScope
        switch request.uri.queryParameters.get("scope") {
        case nil: scope = .all
        case "local": scope = .local
        case "others": scope = .others
        default: throw AppError(.badRequest, "scope must be local or others", errors: [FieldError(field: "scope", message: "must be local or others")])
        }
        try await service.logout(claims, scope: scope, logger: context.logger)
        var headers = HTTPFields.noStore
        // `others` keeps this device signed in, so its cookie stays.
        if scope != .others {
            headers[.setCookie] = cookie.clearing
        }
        return Response(status: .noContent, headers: headers)
    }

    @Sendable func me(_ request: Request, context: Context) async throws -> Response {
        .json(bytes: try context.requireIdentity().json, headers: .noStore)
    }

    private func authResponse(_ result: AuthResult, status: HTTPResponse.Status) throws -> Response {
        var headers = HTTPFields.noStore
        headers[.setCookie] = cookie.setting(result.refreshToken)
        return try .json(AuthResponse(accessToken: result.accessToken, user: UserResponse(result.user)), status: status, headers: headers)
    }

    private func client(_ request: Request, _ context: Context) -> ClientInfo {
        let resolved = addresses.client(headers: request.headers, peer: context.clientAddress)
        return ClientInfo(userAgent: request.headers[.userAgent], ip: resolved.ip, rateLimitKey: resolved.rateLimitKey)
    }
}
