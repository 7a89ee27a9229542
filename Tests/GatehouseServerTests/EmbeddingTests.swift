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

/// An application's own request context, with its own extra state.
struct ShopContext: GatehouseRequestContext {
    var coreContext: CoreRequestContextStorage
    var identity: AccessClaims?
    var cartSize = 0

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
    }
}

@Suite struct EmbeddingTests {
    /// Gatehouse mounted into a router the application owns, without the executable's
    /// composition root, runs the seed flow and guards the application's own route.
    @Test func mountsIntoAnotherApplication() async throws {
        let database = TemporaryDatabase()
        defer { database.remove() }
        let logger = Logger(label: "shop")
        let settings = TestServer.settings()
        let (service, databases) = try await makeService(database, settings: settings)

        let router = Router(context: ShopContext.self)
        router.add(middleware: GatehouseErrorMiddleware())
        router.get("catalog") { _, _ in "open to all" }
        let controller = AuthController<ShopContext>(service: service, configuration: settings, refreshCookiePath: "/shop/auth/refresh")
        controller.addRoutes(to: router.group("shop"))
        router.group("shop")
            .add(middleware: RequireAuthMiddleware<ShopContext>(verifier: service.verifier))
            .get("orders") { _, context in "orders of \(try context.requireIdentity().sub)" }

        var app = Application(router: router, logger: logger)
        app.addServices(databases)
        try await app.test(.router) { client in
            #expect(try await client.get("/catalog").status == .ok)
            let registered = try await client.postJSON(
                "/shop/auth/register", #"{"name":"Embed","email":"embed@example.com","password":"secret123"}"#
            )
            #expect(registered.status == .created)
            #expect(registered.headers[.setCookie]?.contains("Path=/shop/auth/refresh;") == true)
            let auth = try registered.decode(AuthResponse.self)
            let cookie = try #require(registered.refreshCookie)

            let orders = try await client.get("/shop/orders", bearer: auth.accessToken)
            #expect(orders.text == "orders of \(auth.user.id)")
            expectError(try await client.get("/shop/orders"), .unauthorized, "Authentication required")
            #expect(try await client.get("/shop/users/me", bearer: auth.accessToken).status == .ok)

            let refreshed = try await client.executeRequest(
                uri: "/shop/auth/refresh", method: .post, headers: [.cookie: "refreshToken=\(cookie)"], body: nil
            )
            #expect(refreshed.status == .ok)
            let access = try refreshed.decode(AccessTokenResponse.self).accessToken
            let logout = try await client.executeRequest(
                uri: "/shop/auth/logout", method: .post, headers: [.authorization: "Bearer \(access)"], body: nil
            )
            #expect(logout.status == .noContent)
        }
    }
}
