import Foundation
import HTTPTypes
import Gatehouse
import Hummingbird
import HummingbirdTesting
import Testing

@testable import GatehouseServer

/// The claims inside a token, read without verification (tests only).
func payload(of token: String) throws -> [String: Any] {
    let segment = String(try #require(token.split(separator: ".").dropFirst().first))
    var base64 = segment.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
    let data = try #require(Data(base64Encoded: base64))
    return try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
}

func generation(of token: String) throws -> Int {
    try #require(try payload(of: token)["gen"] as? Int)
}

@Suite struct RefreshTests {
    @Test func refreshRotatesTheCookie() async throws {
        try await TestServer.withApp { client in
            let (_, first) = try await client.registered(email: "gina@example.com")
            let response = try await client.refresh(cookie: first)
            #expect(response.status == .ok)
            #expect(response.jsonKeys == ["accessToken"])
            #expect(response.headers[.cacheControl] == "no-store")
            let second = try #require(response.refreshCookie)
            #expect(second != first)
            #expect(try generation(of: first) == 0)
            #expect(try generation(of: second) == 1)
            let claims = try payload(of: second)
            #expect(Set(claims.keys) == ["sub", "version", "sid", "gen", "iat", "exp", "iss", "jti"])
            let access = try response.decode(AccessTokenResponse.self).accessToken
            #expect(try await client.get("/api/v1/users/me", bearer: access).status == .ok)
        }
    }

    @Test func missingCookieIs401() async throws {
        try await TestServer.withApp { client in
            expectError(try await client.refresh(cookie: nil), .unauthorized, "Refresh token missing")
            expectError(try await client.refresh(cookie: ""), .unauthorized, "Refresh token missing")
        }
    }

    @Test func garbageAndAccessTokensAreRefused() async throws {
        try await TestServer.withApp { client in
            let (auth, _) = try await client.registered(email: "hank@example.com")
            expectError(try await client.refresh(cookie: "garbage"), .unauthorized, "Invalid or expired refresh token")
            expectError(try await client.refresh(cookie: auth.accessToken), .unauthorized, "Invalid or expired refresh token")
        }
    }

    @Test func spentTokenWithinGraceWindowGetsTheCurrentToken() async throws {
        let clock = TestClock()
        try await TestServer.withApp(clock: clock) { client in
            let (_, first) = try await client.registered(email: "ivy@example.com")
            clock.advance(60)
            let second = try #require(try await client.refresh(cookie: first).refreshCookie)
            clock.advance(9)
            let grace = try await client.refresh(cookie: first)
            #expect(grace.status == .ok)
            let handedBack = try #require(grace.refreshCookie)
            // The session's current token, byte for byte: not advanced, not a new branch.
            #expect(handedBack == second)
            #expect(try generation(of: handedBack) == 1)
            #expect(try await client.get("/api/v1/users/me", bearer: try grace.decode(AccessTokenResponse.self).accessToken).status == .ok)
            // The current token still rotates normally.
            let third = try #require(try await client.refresh(cookie: second).refreshCookie)
            #expect(try generation(of: third) == 2)
        }
    }

    @Test func spentTokenAfterGraceWindowRevokesTheSession() async throws {
        let clock = TestClock()
        try await TestServer.withApp(clock: clock) { client in
            let (_, first) = try await client.registered(email: "jack@example.com")
            let second = try #require(try await client.refresh(cookie: first).refreshCookie)
            clock.advance(11)
            expectError(try await client.refresh(cookie: first), .unauthorized, "Session expired, please log in again")
            // The thief's use killed the session for the holder of the current token too.
            expectError(try await client.refresh(cookie: second), .unauthorized, "Session expired, please log in again")
        }
    }

    @Test func olderThanThePredecessorIsTheftEvenWithinTheWindow() async throws {
        try await TestServer.withApp { client in
            let (_, first) = try await client.registered(email: "kate@example.com")
            let second = try #require(try await client.refresh(cookie: first).refreshCookie)
            let third = try #require(try await client.refresh(cookie: second).refreshCookie)
            expectError(try await client.refresh(cookie: first), .unauthorized, "Session expired, please log in again")
            expectError(try await client.refresh(cookie: third), .unauthorized, "Session expired, please log in again")
        }
    }

    @Test func zeroReuseIntervalDisablesGrace() async throws {
        let clock = TestClock()
        try await TestServer.withApp(TestServer.settings(reuseInterval: 0), clock: clock) { client in
            let (_, first) = try await client.registered(email: "zero@example.com")
            _ = try #require(try await client.refresh(cookie: first).refreshCookie)
            // Even in the same second: with 0 every spent token is theft.
            expectError(try await client.refresh(cookie: first), .unauthorized, "Session expired, please log in again")
        }
    }

    @Test func expiredRefreshTokenIs401() async throws {
        let clock = TestClock()
        try await TestServer.withApp(clock: clock) { client in
            let (_, cookie) = try await client.registered(email: "liam@example.com")
            clock.advance(7 * 86_400 + 31)
            expectError(try await client.refresh(cookie: cookie), .unauthorized, "Invalid or expired refresh token")
        }
    }

    @Test func refreshSlidesTheSessionExpiry() async throws {
        let clock = TestClock()
        try await TestServer.withApp(TestServer.settings(refreshTTL: 3_600), clock: clock) { client in
            var (_, cookie) = try await client.registered(email: "slide@example.com")
            for _ in 0..<3 {
                clock.advance(3_000)
                cookie = try #require(try await client.refresh(cookie: cookie).refreshCookie)
            }
            let claims = try payload(of: cookie)
            #expect((claims["exp"] as? Int).map { $0 - (claims["iat"] as? Int ?? 0) } == 3_600)
        }
    }

    /// The clock moves a second at every reading, so each request that rotated would
    /// sign a different token: only the conditional update keeps it to one rotation, with
    /// every other request answered from the grace path with that same token.
    @Test func concurrentRefreshesOfOneTokenNeverBranchTheSession() async throws {
        try await TestServer.withApp(TestServer.settings(reuseInterval: 3_600), clock: TestClock(tick: 1)) { client in
            let (_, first) = try await client.registered(email: "mia@example.com")
            let responses = try await withThrowingTaskGroup(of: TestResponse.self) { group in
                for _ in 0..<50 {
                    group.addTask { try await client.refresh(cookie: first) }
                }
                return try await group.reduce(into: [TestResponse]()) { $0.append($1) }
            }
            #expect(responses.allSatisfy { $0.status == .ok }, "\(responses.map(\.status))")
            let cookies = responses.compactMap(\.refreshCookie)
            #expect(cookies.count == 50)
            // One rotation: every answer carries generation 1, the one live token.
            #expect(try cookies.allSatisfy { try generation(of: $0) == 1 })
            #expect(Set(cookies).count == 1)
            let next = try #require(try await client.refresh(cookie: cookies[0]).refreshCookie)
            #expect(try generation(of: next) == 2)
        }
    }

    /// Whichever wins, a logout racing a refresh leaves the session dead: neither the
    /// presented token nor one the refresh may have handed out works afterwards.
    @Test func aLogoutRacingARefreshLeavesTheSessionDead() async throws {
        try await TestServer.withApp { client in
            for round in 0..<10 {
                let (auth, cookie) = try await client.registered(email: "racer\(round)@example.com")
                async let logout = client.logout(bearer: auth.accessToken)
                async let refresh = client.refresh(cookie: cookie)
                let (loggedOut, refreshed) = try await (logout, refresh)
                #expect(loggedOut.status == .noContent)
                #expect(refreshed.status == .ok || refreshed.status == .unauthorized, "\(refreshed.text)")
                for token in [cookie, refreshed.refreshCookie].compactMap({ $0 }) {
                    expectError(try await client.refresh(cookie: token), .unauthorized, "Session expired, please log in again")
                }
            }
        }
    }

    @Test func refreshAfterLogoutAllIsRefused() async throws {
        try await TestServer.withApp { client in
            let (auth, cookie) = try await client.registered(email: "noah@example.com")
            #expect(try await client.logout(bearer: auth.accessToken).status == .noContent)
            expectError(try await client.refresh(cookie: cookie), .unauthorized, "Session expired, please log in again")
        }
    }

    @Test func refreshCarriesTheCurrentRoleAndVersion() async throws {
        try await TestServer.withApp { client in
            let (auth, cookie) = try await client.registered(email: "olga@example.com")
            let refreshed = try await client.refresh(cookie: cookie).decode(AccessTokenResponse.self)
            let before = try payload(of: auth.accessToken)
            let after = try payload(of: refreshed.accessToken)
            #expect(after["sub"] as? String == before["sub"] as? String)
            #expect(after["sid"] as? String == before["sid"] as? String)
            #expect(after["role"] as? String == "user")
            #expect(after["version"] as? Int == 0)
        }
    }
}
