import Configuration
import FluentKit
import Foundation
import HTTPTypes
import Gatehouse
import GatehouseFluent
import Hummingbird
import HummingbirdAuth
import HummingbirdTesting
import Logging
import NIOCore
import Testing

@testable import GatehouseServer

/// An application's own request context: its own identity type, Hummingbird's peer address.
struct MemberContext: AuthRequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    var identity: Member?
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }
}

/// The application's user, made from the verified claims.
struct Member: RoleProviding {
    let id: String
    let roles: Set<String>
}

/// A context that knows no peer address: it must opt in to having none.
struct BareContext: AuthRequestContext {
    var coreContext: CoreRequestContextStorage
    var identity: AccessClaims?

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
    }
}

/// Gatehouse mounted the Hummingbird way (issue 11): hummingbird-auth's authenticator
/// and policies, errors that render themselves, any context.
@Suite struct EmbeddingTests {
    static func withService<T: Sendable>(
        _ settings: GatehouseConfiguration = TestServer.settings(),
        _ body: @Sendable (AuthService) async throws -> T
    ) async throws -> T {
        let database = TemporaryDatabase()
        defer { database.remove() }
        // A clock that stands still, so waits such as Retry-After are exact.
        let clock = TestClock()
        let (service, databases) = try await makeService(database, settings: settings, now: { clock.now })
        do {
            let value = try await body(service)
            await databases.shutdownAsync()
            return value
        } catch {
            await databases.shutdownAsync()
            throw error
        }
    }

    /// An admin made directly through the service, and a token for them.
    static func admin(_ service: AuthService, client: some TestClientProtocol, prefix: String = "/api/v1") async throws -> String {
        let registration = try Registration.validate(name: "Admin", email: "admin@example.com", password: "secret123")
        _ = try await service.createUser(registration, role: .admin, logger: Logger(label: "test"))
        let login = try await client.postJSON("\(prefix)/auth/login", #"{"email":"admin@example.com","password":"secret123"}"#)
        return try login.decode(AuthResponse.self).accessToken
    }

    /// Gatehouse's routes and middleware with no Gatehouse error middleware at all: every
    /// error still answers in the JSON shape with its headers.
    @Test func errorsRenderThemselvesWithoutTheErrorMiddleware() async throws {
        let limits = RateLimits(login: RateLimit(1, per: 60), register: nil, refresh: nil, loginFailuresPerAccount: nil)
        let settings = TestServer.settings(rateLimits: limits)
        try await Self.withService(settings) { service in
            let router = Router(context: GatehouseContext.self)
            AuthController<GatehouseContext>(service: service, configuration: settings).addRoutes(to: router.group("api/v1"))
            try await Application(router: router).test(.router) { client in
                expectError(try await client.get("/api/v1/users/me"), .unauthorized, "Authentication required")
                expectError(try await client.get("/api/v1/users/me", bearer: "not.a.token"), .unauthorized, "Invalid access token")
                let invalid = try await client.postJSON("/api/v1/auth/register", #"{"name":"A","email":"nope","password":"short"}"#)
                expectError(invalid, .badRequest)
                #expect(invalid.error?.errors?.map(\.field) == ["name", "email", "password"])
                expectError(try await client.postJSON("/api/v1/auth/register", #"{"email":"a@example.com",}"#), .badRequest, "Invalid JSON body")
                expectError(try await client.login(email: "a@example.com"), .unauthorized, "Invalid email or password")
                let limited = try await client.login(email: "a@example.com")
                expectError(limited, .tooManyRequests, "Too many requests")
                #expect(limited.headers[.retryAfter] == "60")
            }
        }
    }

    /// The authenticator with the application's own identity: optional authentication
    /// on one route, required on another, an admin role on a third.
    @Test func theAuthenticatorWithAnIdentityOfYourOwn() async throws {
        try await Self.withService { service in
            let router = Router(context: MemberContext.self)
            AuthController<MemberContext>(service: service, configuration: TestServer.settings(), refreshCookiePath: "/club/auth/refresh")
                .addRoutes(to: router.group("club"))
            let members = router.group("club")
                .add(middleware: GatehouseAuthenticator<MemberContext>(verifier: service.verifier) { claims in
                    Member(id: claims.sub, roles: claims.roles)
                })
            members.get("hello") { _, context in context.identity.map { "hello \($0.id)" } ?? "hello stranger" }
            members.group("lounge").add(middleware: RequireAuthentication<MemberContext>(verifier: service.verifier))
                .get { _, context in "lounge for \(try context.requireIdentity().id)" }
            members.group("office").add(middleware: RequireAuthentication<MemberContext>(verifier: service.verifier))
                .add(middleware: AuthorizationPolicyMiddleware(RolePolicy("admin"), deniedError: AppError.forbidden, context: MemberContext.self))
                .get { _, _ in "office" }
            members.group("either").add(middleware: RequireAuthentication<MemberContext>(verifier: service.verifier))
                .add(middleware: AuthorizationPolicyMiddleware(
                    anyOf { RolePolicy<Member>("admin"); RolePolicy<Member>("user") }, deniedError: AppError.forbidden, context: MemberContext.self
                ))
                .get { _, _ in "either" }

            try await Application(router: router).test(.router) { client in
                let registered = try await client.postJSON(
                    "/club/auth/register", #"{"name":"Member","email":"member@example.com","password":"secret123"}"#
                )
                #expect(registered.headers[.setCookie]?.contains("Path=/club/auth/refresh;") == true)
                let user = try registered.decode(AuthResponse.self)
                let admin = try await Self.admin(service, client: client, prefix: "/club")

                #expect(try await client.get("/club/hello").text == "hello stranger")
                #expect(try await client.get("/club/hello", bearer: user.accessToken).text == "hello \(user.user.id)")
                // Another scheme is for another authenticator: anonymous here.
                #expect(try await client.get("/club/hello", headers: [.authorization: "Basic dXNlcjpwYXNz"]).text == "hello stranger")
                // A bad credential is no identity: anonymous where that is fine...
                #expect(try await client.get("/club/hello", bearer: "garbage").text == "hello stranger")
                #expect(try await client.get("/club/hello", headers: [.authorization: "Bearer"]).text == "hello stranger")
                // ...and the precise 401 where an identity is required.
                expectError(try await client.get("/club/lounge", bearer: "garbage"), .unauthorized, "Invalid access token")
                expectError(try await client.get("/club/lounge", headers: [.authorization: "Bearer"]), .unauthorized, "Authentication required")
                var twoFields = HTTPFields()
                twoFields.append(HTTPField(name: .authorization, value: "Bearer \(user.accessToken)"))
                twoFields.append(HTTPField(name: .authorization, value: "Bearer \(user.accessToken)"))
                expectError(try await client.get("/club/lounge", headers: twoFields), .unauthorized, "Authentication required")

                #expect(try await client.get("/club/lounge", bearer: user.accessToken).text == "lounge for \(user.user.id)")
                expectError(try await client.get("/club/lounge"), .unauthorized, "Authentication required")

                expectError(try await client.get("/club/office", bearer: user.accessToken), .forbidden, "Forbidden")
                #expect(try await client.get("/club/office", bearer: admin).status == .ok)
                expectError(try await client.get("/club/office"), .unauthorized, "Authentication required")
                #expect(try await client.get("/club/either", bearer: user.accessToken).status == .ok)
                #expect(try await client.get("/club/either", bearer: admin).status == .ok)
            }
        }
    }

    /// `AccessClaims` as the identity (the default), with hummingbird-auth's own
    /// `IsAuthenticatedMiddleware` and a policy, behind Gatehouse's error middleware,
    /// which renders their bare 401 and 403 in the JSON shape.
    @Test func hummingbirdAuthsOwnMiddlewareWithTheErrorMiddleware() async throws {
        try await Self.withService { service in
            let router = Router(context: GatehouseContext.self)
            router.add(middleware: GatehouseErrorMiddleware())
            AuthController<GatehouseContext>(service: service, configuration: TestServer.settings()).addRoutes(to: router.group("api/v1"))
            let authenticated = router.group("app").add(middleware: GatehouseAuthenticator<GatehouseContext>(verifier: service.verifier))
            authenticated.group("mine").add(middleware: IsAuthenticatedMiddleware<GatehouseContext>())
                .get { _, context in try context.requireIdentity().role.rawValue }
            authenticated.group("admin").add(middleware: AuthorizationPolicyMiddleware(RolePolicy("admin"), context: GatehouseContext.self))
                .get { _, _ in "admin" }
            try await Application(router: router).test(.router) { client in
                let user = try await client.registered(email: "plain@example.com").auth.accessToken
                let admin = try await Self.admin(service, client: client)
                #expect(try await client.get("/app/mine", bearer: user).text == "user")
                expectError(try await client.get("/app/mine"), .unauthorized, "Authentication required")
                // hummingbird-auth's middleware only knows there is no identity.
                expectError(try await client.get("/app/mine", bearer: user + "x"), .unauthorized, "Authentication required")
                expectError(try await client.get("/app/admin", bearer: user), .forbidden, "Forbidden")
                expectError(try await client.get("/app/admin"), .unauthorized, "Authentication required")
                #expect(try await client.get("/app/admin", bearer: admin).text == "admin")
            }
        }
    }

    /// A mapping that finds no user leaves the request anonymous, and a route that needs
    /// an identity refuses the token.
    @Test func anIdentityThatIsGoneRefusesTheToken() async throws {
        try await Self.withService { service in
            let router = Router(context: MemberContext.self)
            AuthController<MemberContext>(service: service, configuration: TestServer.settings()).addRoutes(to: router.group("api/v1"))
            let app = router.group("app")
                .add(middleware: GatehouseAuthenticator<MemberContext>(verifier: service.verifier) { (_: AccessClaims) async throws -> Member? in nil })
            app.get("hello") { _, context in context.identity == nil ? "hello stranger" : "hello member" }
            app.group("lounge").add(middleware: RequireAuthentication<MemberContext>(verifier: service.verifier)).get { _, _ in "lounge" }
            try await Application(router: router).test(.router) { client in
                let user = try await client.registered(email: "gone@example.com").auth.accessToken
                #expect(try await client.get("/app/hello", bearer: user).text == "hello stranger")
                expectError(try await client.get("/app/lounge", bearer: user), .unauthorized, "Invalid access token")
            }
        }
    }

    /// The authenticator in front of everything, Gatehouse's routes included (the
    /// obvious way to get optional authentication everywhere): a client that always
    /// attaches its access token, expired or not, can still log in, register and refresh.
    @Test func aStaleTokenDoesNotBlockLoginOrRefresh() async throws {
        let clock = TestClock()
        let settings = TestServer.settings()
        let database = TemporaryDatabase()
        defer { database.remove() }
        let (service, databases) = try await makeService(database, settings: settings, now: { clock.now })
        let router = Router(context: GatehouseContext.self)
        router.add(middleware: GatehouseAuthenticator<GatehouseContext>(verifier: service.verifier))
        AuthController<GatehouseContext>(service: service, configuration: settings).addRoutes(to: router.group("api/v1"))
        try await Application(router: router).test(.router) { client in
            let (auth, cookie) = try await client.registered(email: "stale@example.com")
            clock.advance(3_600)
            let stale: HTTPFields = [.authorization: "Bearer \(auth.accessToken)"]
            expectError(try await client.get("/api/v1/users/me", headers: stale), .unauthorized, "Access token expired")
            var refreshHeaders = stale
            refreshHeaders[.cookie] = "refreshToken=\(cookie)"
            let refreshed = try await client.executeRequest(uri: "/api/v1/auth/refresh", method: .post, headers: refreshHeaders, body: nil)
            #expect(refreshed.status == .ok, "\(refreshed.text)")
            #expect(try await client.postJSON("/api/v1/auth/login", #"{"email":"stale@example.com","password":"secret123"}"#, headers: stale).status == .ok)
            expectError(try await client.get("/api/v1/users/me", bearer: "garbage"), .unauthorized, "Invalid access token")
        }
        await databases.shutdownAsync()
    }

    /// Without the error middleware, CORS headers still reach an error's answer, so a
    /// browser app on an allowed origin can read the 401's message and the 429's wait.
    @Test func corsHeadersReachSelfRenderingErrors() async throws {
        try await Self.withService { service in
            let router = Router(context: GatehouseContext.self)
            var routes = RouteTable()
            let controller = AuthController<GatehouseContext>(service: service, configuration: TestServer.settings())
            controller.record(in: &routes)
            router.add(middleware: CORSAllowlistMiddleware(origins: ["https://app.example.com"], routes: routes))
            controller.addRoutes(to: router.group("api/v1"))
            try await Application(router: router).test(.router) { client in
                let response = try await client.get("/api/v1/users/me", headers: [.origin: "https://app.example.com"])
                expectError(response, .unauthorized, "Authentication required")
                #expect(response.headers[.accessControlAllowOrigin] == "https://app.example.com")
                #expect(response.headers[.accessControlExposeHeaders] == "Retry-After, WWW-Authenticate")
            }
        }
    }

    /// Without a peer address the controller needs an explicit opt-in; with
    /// `.unavailable` every client shares one bucket (as documented), with `.custom`
    /// the application says where the address is.
    @Test func aContextWithoutAPeerAddressSaysSoExplicitly() async throws {
        let limits = RateLimits(login: RateLimit(1, per: 60), register: nil, refresh: nil, loginFailuresPerAccount: nil)
        let settings = TestServer.settings(rateLimits: limits)
        try await Self.withService(settings) { service in
            let router = Router(context: BareContext.self)
            AuthController<BareContext>(service: service, configuration: settings, peerAddress: .unavailable)
                .addRoutes(to: router.group("shared"))
            AuthController<BareContext>(service: service, configuration: settings, peerAddress: .custom { request, _ in
                request.headers[HTTPField.Name("X-Test-Peer")!]
            }).addRoutes(to: router.group("custom"))
            try await Application(router: router).test(.router) { client in
                let body = #"{"email":"x@example.com","password":"wrong-password"}"#
                expectError(try await client.postJSON("/shared/auth/login", body), .unauthorized)
                expectError(try await client.postJSON("/shared/auth/login", body), .tooManyRequests)
                for peer in ["192.0.2.1", "192.0.2.2"] {
                    let headers: HTTPFields = [HTTPField.Name("X-Test-Peer")!: peer]
                    expectError(try await client.postJSON("/custom/auth/login", body, headers: headers), .unauthorized)
                }
            }
        }
    }
}
