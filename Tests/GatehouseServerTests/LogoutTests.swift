import Foundation
import HTTPTypes
import Gatehouse
import Hummingbird
import HummingbirdTesting
import Testing

@testable import GatehouseServer

@Suite struct LogoutTests {
    static let clearedCookie = "refreshToken=; Path=/api/v1/auth/refresh; Max-Age=0; HttpOnly; SameSite=Strict"

    @Test func logoutRevokesEverySessionAndBumpsTheVersion() async throws {
        try await TestServer.withApp { client in
            let (laptop, laptopCookie) = try await client.registered(email: "pat@example.com")
            let phone = try await client.login(email: "pat@example.com")
            let phoneCookie = try #require(phone.refreshCookie)
            let response = try await client.logout(bearer: laptop.accessToken)
            #expect(response.status == .noContent)
            #expect(response.body.readableBytes == 0)
            #expect(response.headers[.setCookie] == Self.clearedCookie)
            #expect(response.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
            expectError(try await client.refresh(cookie: laptopCookie), .unauthorized, "Session expired, please log in again")
            expectError(try await client.refresh(cookie: phoneCookie), .unauthorized, "Session expired, please log in again")
            let again = try await client.login(email: "pat@example.com").decode(AuthResponse.self)
            #expect(try payload(of: again.accessToken)["version"] as? Int == 1)
        }
    }

    @Test func localScopeRevokesOnlyThisSession() async throws {
        try await TestServer.withApp { client in
            let (laptop, laptopCookie) = try await client.registered(email: "quinn@example.com")
            let phoneCookie = try #require(try await client.login(email: "quinn@example.com").refreshCookie)
            let response = try await client.logout(bearer: laptop.accessToken, scope: "local")
            #expect(response.status == .noContent)
            #expect(response.headers[.setCookie] == Self.clearedCookie)
            expectError(try await client.refresh(cookie: laptopCookie), .unauthorized, "Session expired, please log in again")
            #expect(try await client.refresh(cookie: phoneCookie).status == .ok)
        }
    }

    @Test func othersScopeKeepsOnlyThisSession() async throws {
        try await TestServer.withApp { client in
            let (laptop, laptopCookie) = try await client.registered(email: "rita@example.com")
            let phoneCookie = try #require(try await client.login(email: "rita@example.com").refreshCookie)
            let response = try await client.logout(bearer: laptop.accessToken, scope: "others")
            #expect(response.status == .noContent)
            #expect(response.headers[.setCookie] == nil)
            expectError(try await client.refresh(cookie: phoneCookie), .unauthorized, "Session expired, please log in again")
            #expect(try await client.refresh(cookie: laptopCookie).status == .ok)
        }
    }

    @Test(arguments: ["all", "global", "", "LOCAL", "local,others"])
    func anyOtherScopeIs400(scope: String) async throws {
        try await TestServer.withApp { client in
            let (auth, cookie) = try await client.registered(email: "sam@example.com")
            let response = try await client.logout(bearer: auth.accessToken, scope: scope)
            expectError(response, .badRequest)
            #expect(response.error?.errors?.first?.field == "scope")
            #expect(try await client.refresh(cookie: cookie).status == .ok)
        }
    }

    @Test func logoutNeedsABearerToken() async throws {
        try await TestServer.withApp { client in
            expectError(try await client.logout(bearer: nil), .unauthorized, "Authentication required")
            expectError(try await client.logout(bearer: "nonsense"), .unauthorized, "Invalid access token")
        }
    }

    @Test func sessionsOfOtherUsersAreUntouched() async throws {
        try await TestServer.withApp { client in
            let (tom, _) = try await client.registered(email: "tom@example.com")
            let (_, unaCookie) = try await client.registered(email: "una@example.com")
            #expect(try await client.logout(bearer: tom.accessToken).status == .noContent)
            #expect(try await client.refresh(cookie: unaCookie).status == .ok)
        }
    }
}
