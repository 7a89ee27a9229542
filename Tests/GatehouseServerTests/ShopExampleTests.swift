import Configuration
import Foundation
import Gatehouse
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@testable import GatehouseServer
@testable import ShopExample

/// `Examples/Shop`, the embedding example of the README, run over a real socket.
@Suite struct ShopExampleTests {
    @Test func theShopServesItsRoutesAndGatehouses() async throws {
        let environment = EnvironmentVariablesProvider(environmentVariables: [
            "JWT_ACCESS_SECRET": SecretGenerator.hex(bytes: 32), "JWT_REFRESH_SECRET": SecretGenerator.hex(bytes: 32),
            "BCRYPT_COST": "4", "RATE_LIMIT_LOGIN": "off",
        ])
        let logger = Logger(label: "shop")
        let shop = try await Shop.open(reader: ConfigReader(provider: environment), logger: logger)
        let admin = try Registration.validate(name: "Owner", email: "owner@example.com", password: "secret123")
        _ = try await shop.auth.createUser(admin, role: .admin, logger: logger)

        try await shop.application(port: 0, logger: logger).test(.live) { client in
            #expect(try await client.get("/shop/greeting").text == "Welcome, stranger")
            // No Gatehouse error middleware, yet every error is in Gatehouse's shape.
            expectError(try await client.get("/shop/orders"), .unauthorized, "Authentication required")
            expectError(try await client.get("/shop/orders", bearer: "x.y.z"), .unauthorized, "Invalid access token")
            let invalid = try await client.postJSON("/shop/api/auth/register", #"{"name":"C","email":"c","password":"c"}"#)
            expectError(invalid, .badRequest)
            #expect(invalid.error?.errors?.count == 3)

            let registered = try await client.postJSON(
                "/shop/api/auth/register", #"{"name":"Customer","email":"customer@example.com","password":"secret123"}"#
            )
            #expect(registered.status == .created)
            #expect(registered.headers[.setCookie]?.contains("Path=/shop/api/auth/refresh;") == true)
            let customer = try registered.decode(AuthResponse.self)
            #expect(try await client.get("/shop/greeting", bearer: customer.accessToken).text == "Welcome back, \(customer.user.id)")
            #expect(try await client.get("/shop/orders", bearer: customer.accessToken).text == "Orders of \(customer.user.id)")
            expectError(try await client.get("/shop/admin/report", bearer: customer.accessToken), .forbidden, "Forbidden")

            let owner = try await client.postJSON("/shop/api/auth/login", #"{"email":"owner@example.com","password":"secret123"}"#)
            let ownerToken = try owner.decode(AuthResponse.self).accessToken
            #expect(try await client.get("/shop/admin/report", bearer: ownerToken).text == "Sales report")
            #expect(try await client.get("/shop/api/users/me", bearer: ownerToken).status == .ok)

            let cookie = try #require(registered.refreshCookie)
            let refreshed = try await client.executeRequest(
                uri: "/shop/api/auth/refresh", method: .post, headers: [.cookie: "refreshToken=\(cookie)"], body: nil
            )
            #expect(refreshed.status == .ok)
        }
    }
}
