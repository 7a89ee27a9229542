import Foundation
import HTTPTypes
import Gatehouse
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import GatehouseServer

extension TestClientProtocol {
    func sessions(bearer: String?) async throws -> TestResponse {
        try await get("/api/v1/auth/sessions", bearer: bearer)
    }

    func deleteSession(_ id: String, bearer: String?) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let bearer { headers[.authorization] = "Bearer \(bearer)" }
        return try await executeRequest(uri: "/api/v1/auth/sessions/\(id)", method: .delete, headers: headers, body: nil)
    }

    func changePassword(_ json: String, bearer: String?) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let bearer { headers[.authorization] = "Bearer \(bearer)" }
        return try await postJSON("/api/v1/auth/password", json, headers: headers)
    }

    /// Logs in from a device of its own (user agent and forwarded address).
    func loginFrom(_ device: String, ip: String, email: String, password: String = "secret123") async throws -> (access: String, cookie: String) {
        let response = try await postJSON(
            "/api/v1/auth/login", #"{"email":\#(quoted(email)),"password":\#(quoted(password))}"#,
            headers: [.userAgent: device, .xForwardedFor: ip]
        )
        try #require(response.status == .ok, "login answered \(response.status): \(response.text)")
        return (try response.decode(AuthResponse.self).accessToken, try #require(response.refreshCookie))
    }
}

func sessionID(of token: String) throws -> String {
    try #require(try payload(of: token)["sid"] as? String)
}

/// SPEC.md §3.4: sessions and password self-service.
@Suite struct SessionListTests {
    @Test func listsLiveSessionsMostRecentlyUsedFirstWithTheCurrentOneMarked() async throws {
        let clock = TestClock()
        try await TestServer.withApp(TestServer.settings(trustProxy: true), clock: clock) { client in
            _ = try await client.registered(email: "sam@example.com")
            clock.advance(60)
            let phone = try await client.loginFrom("Phone/1.0", ip: "198.51.100.7", email: "sam@example.com")
            clock.advance(60)
            let laptop = try await client.loginFrom("Laptop/2.0", ip: "2001:db8::1", email: "sam@example.com")

            let response = try await client.sessions(bearer: laptop.access)
            #expect(response.status == .ok)
            #expect(response.headers[.cacheControl] == "no-store")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
            let sessions = try #require(object["sessions"] as? [[String: Any]])
            #expect(sessions.count == 3)
            for session in sessions {
                #expect(Set(session.keys) == ["id", "createdAt", "lastUsedAt", "expiresAt", "userAgent", "ip", "current"])
            }
            #expect(sessions.map { $0["id"] as? String } == [try sessionID(of: laptop.access), try sessionID(of: phone.access), sessions[2]["id"] as? String])
            #expect(sessions.map { $0["current"] as? Bool } == [true, false, false])
            #expect(sessions[0]["userAgent"] as? String == "Laptop/2.0")
            #expect(sessions[0]["ip"] as? String == "2001:db8::1")
            #expect(sessions[1]["userAgent"] as? String == "Phone/1.0")
            #expect(sessions[1]["ip"] as? String == "198.51.100.7")
            // The registration's session had neither header: explicit nulls.
            #expect(sessions[2]["userAgent"] is NSNull)
            let created = try #require(sessions[0]["createdAt"] as? String)
            #expect(created == Date(timeIntervalSince1970: clock.now.timeIntervalSince1970.rounded(.down)).formatted(.iso8601))
            #expect(created.hasSuffix("Z"))
            let expires = try #require(sessions[0]["expiresAt"] as? String)
            #expect(try Date(expires, strategy: .iso8601) > Date(created, strategy: .iso8601))
        }
    }

    @Test func refreshMovesASessionToTheTop() async throws {
        let clock = TestClock()
        try await TestServer.withApp(clock: clock) { client in
            let (first, firstCookie) = try await client.registered(email: "tess@example.com")
            clock.advance(60)
            let second = try await client.loginFrom("B", ip: "", email: "tess@example.com")
            clock.advance(60)
            let before = try await client.sessions(bearer: first.accessToken).decode(SessionsResponse.self).sessions
            #expect(before.map(\.id) == [try sessionID(of: second.access), try sessionID(of: first.accessToken)])
            #expect(try await client.refresh(cookie: firstCookie).status == .ok)
            let after = try await client.sessions(bearer: first.accessToken).decode(SessionsResponse.self).sessions
            #expect(after.map(\.id) == [try sessionID(of: first.accessToken), try sessionID(of: second.access)])
            #expect(after[0].lastUsedAt > before[1].lastUsedAt)
            #expect(after[0].createdAt == before[1].createdAt)
        }
    }

    @Test func revokedAndExpiredSessionsAreNotListed() async throws {
        let clock = TestClock()
        try await TestServer.withApp(TestServer.settings(refreshTTL: 3_600), clock: clock) { client in
            let (auth, _) = try await client.registered(email: "uma@example.com")
            let other = try await client.loginFrom("B", ip: "", email: "uma@example.com")
            #expect(try await client.logout(bearer: other.access, scope: "local").status == .noContent)
            var sessions = try await client.sessions(bearer: auth.accessToken).decode(SessionsResponse.self).sessions
            #expect(sessions.map(\.id) == [try sessionID(of: auth.accessToken)])
            clock.advance(3_601)
            // The access token outlives nothing here: a fresh login after the expiry.
            let later = try await client.loginFrom("C", ip: "", email: "uma@example.com")
            sessions = try await client.sessions(bearer: later.access).decode(SessionsResponse.self).sessions
            #expect(sessions.map(\.id) == [try sessionID(of: later.access)])
        }
    }

    @Test func needsABearerToken() async throws {
        try await TestServer.withApp { client in
            expectError(try await client.sessions(bearer: nil), .unauthorized, "Authentication required")
            expectError(try await client.sessions(bearer: "garbage"), .unauthorized, "Invalid access token")
            expectError(try await client.deleteSession(UUID().uuidString, bearer: nil), .unauthorized, "Authentication required")
            expectError(
                try await client.changePassword(#"{"currentPassword":"secret123","newPassword":"other1234"}"#, bearer: nil),
                .unauthorized, "Authentication required"
            )
        }
    }
}

@Suite struct SessionRevocationTests {
    @Test func revokingAnotherDeviceEndsItsRefreshes() async throws {
        try await TestServer.withApp { client in
            let (auth, cookie) = try await client.registered(email: "vic@example.com")
            let phone = try await client.loginFrom("Phone", ip: "", email: "vic@example.com")
            let response = try await client.deleteSession(try sessionID(of: phone.access), bearer: auth.accessToken)
            #expect(response.status == .noContent)
            // Another device's session: this device's cookie stays.
            #expect(response.headers[.setCookie] == nil)
            expectError(try await client.refresh(cookie: phone.cookie), .unauthorized, "Session expired, please log in again")
            #expect(try await client.refresh(cookie: cookie).status == .ok)
            let sessions = try await client.sessions(bearer: auth.accessToken).decode(SessionsResponse.self).sessions
            #expect(sessions.map(\.id) == [try sessionID(of: auth.accessToken)])
        }
    }

    @Test func revokingTheOwnSessionClearsTheCookie() async throws {
        try await TestServer.withApp { client in
            let (auth, cookie) = try await client.registered(email: "wes@example.com")
            let response = try await client.deleteSession(try sessionID(of: auth.accessToken), bearer: auth.accessToken)
            #expect(response.status == .noContent)
            let setCookie = try #require(response.headers[.setCookie])
            #expect(setCookie.hasPrefix("refreshToken=;"))
            #expect(setCookie.contains("Max-Age=0"))
            #expect(setCookie.contains("Path=/api/v1/auth/refresh"))
            expectError(try await client.refresh(cookie: cookie), .unauthorized, "Session expired, please log in again")
        }
    }

    @Test func unknownForeignRevokedAndMalformedIdsGetTheSameAnswer() async throws {
        try await TestServer.withApp { client in
            let (alice, _) = try await client.registered(email: "xena@example.com")
            let (bob, bobCookie) = try await client.registered(email: "yuri@example.com")
            let aliceOther = try await client.loginFrom("B", ip: "", email: "xena@example.com")
            #expect(try await client.deleteSession(try sessionID(of: aliceOther.access), bearer: alice.accessToken).status == .noContent)

            let unknown = try await client.deleteSession(UUID().uuidString, bearer: alice.accessToken)
            let foreign = try await client.deleteSession(try sessionID(of: bob.accessToken), bearer: alice.accessToken)
            let revoked = try await client.deleteSession(try sessionID(of: aliceOther.access), bearer: alice.accessToken)
            let malformed = try await client.deleteSession("not-a-uuid", bearer: alice.accessToken)
            for response in [unknown, foreign, revoked, malformed] {
                expectError(response, .notFound, "Session not found")
                #expect(response.text == unknown.text)
                #expect(response.headers[.setCookie] == nil)
            }
            // Bob's session is untouched.
            #expect(try await client.refresh(cookie: bobCookie).status == .ok)
        }
    }
}

@Suite struct PasswordChangeTests {
    static let change = #"{"currentPassword":"secret123","newPassword":"brand-new-pass"}"#

    @Test func changesThePasswordRevokesOtherSessionsAndKeepsThisOne() async throws {
        try await TestServer.withApp { client in
            let (auth, oldCookie) = try await client.registered(email: "zoe@example.com")
            let phone = try await client.loginFrom("Phone", ip: "", email: "zoe@example.com")
            let response = try await client.changePassword(Self.change, bearer: auth.accessToken)
            #expect(response.status == .ok, "\(response.text)")
            #expect(response.jsonKeys == ["accessToken"])
            #expect(response.headers[.cacheControl] == "no-store")
            let access = try response.decode(AccessTokenResponse.self).accessToken
            let cookie = try #require(response.refreshCookie)
            #expect(try payload(of: access)["version"] as? Int == 1)
            #expect(try payload(of: access)["sid"] as? String == (try sessionID(of: auth.accessToken)))
            #expect(try payload(of: cookie)["version"] as? Int == 1)
            #expect(try generation(of: cookie) == 1)

            // The other device is signed out; the old cookie of this one is spent.
            expectError(try await client.refresh(cookie: phone.cookie), .unauthorized, "Session expired, please log in again")
            expectError(try await client.refresh(cookie: oldCookie), .unauthorized, "Session expired, please log in again")
            // This device goes on with the new cookie.
            #expect(try await client.refresh(cookie: cookie).status == .ok)
            let sessions = try await client.sessions(bearer: access).decode(SessionsResponse.self).sessions
            #expect(sessions.map(\.id) == [try sessionID(of: auth.accessToken)])
            // Only the new password logs in.
            expectError(try await client.login(email: "zoe@example.com"), .unauthorized, "Invalid email or password")
            #expect(try await client.login(email: "zoe@example.com", password: "brand-new-pass").status == .ok)
        }
    }

    @Test func aWrongCurrentPasswordIs400AndCountsAgainstTheAccount() async throws {
        let limits = RateLimits(login: nil, register: nil, refresh: nil, loginFailuresPerAccount: RateLimit(3, per: 900))
        try await TestServer.withApp(TestServer.settings(rateLimits: limits)) { client in
            let (auth, _) = try await client.registered(email: "amy@example.com")
            for _ in 0..<3 {
                let response = try await client.changePassword(
                    #"{"currentPassword":"wrong-guess","newPassword":"brand-new-pass"}"#, bearer: auth.accessToken
                )
                expectError(response, .badRequest, "currentPassword is incorrect")
                #expect(response.error?.errors == [FieldError(field: "currentPassword", message: "is incorrect")])
            }
            // Past the limit even the right password is refused, and login shares the count.
            let refused = try await client.changePassword(Self.change, bearer: auth.accessToken)
            expectError(refused, .tooManyRequests, "Too many requests")
            #expect(refused.headers[.retryAfter] != nil)
            expectError(try await client.login(email: "amy@example.com"), .tooManyRequests, "Too many requests")
            // Nothing changed.
            #expect(try await client.sessions(bearer: auth.accessToken).decode(SessionsResponse.self).sessions.count == 1)
        }
    }

    @Test(arguments: [
        (#"{"currentPassword":"secret123","newPassword":"short"}"#, "newPassword"),
        (#"{"currentPassword":"secret123","newPassword":"secret123"}"#, "newPassword"),
        (#"{"currentPassword":"secret123","newPassword":"\#(String(repeating: "x", count: 73))"}"#, "newPassword"),
        (#"{"currentPassword":"secret123"}"#, "newPassword"),
        (#"{"newPassword":"brand-new-pass"}"#, "currentPassword"),
        (#"{"currentPassword":"secret123","newPassword":12345678}"#, "newPassword"),
        (#"{"currentPassword":"secret123","newPassword":"brand-new-pass","tokenVersion":0}"#, "tokenVersion"),
    ])
    func badBodiesAre400NamingTheField(body: String, field: String) async throws {
        try await TestServer.withApp { client in
            let (auth, cookie) = try await client.registered(email: "bea@example.com")
            let response = try await client.changePassword(body, bearer: auth.accessToken)
            expectError(response, .badRequest)
            #expect(response.error?.errors?.map(\.field) == [field], "\(response.text)")
            // Nothing changed: the old password and the session still work.
            #expect(try await client.refresh(cookie: cookie).status == .ok)
            #expect(try await client.login(email: "bea@example.com").status == .ok)
        }
    }

    @Test func malformedJSONIs400() async throws {
        try await TestServer.withApp { client in
            let (auth, _) = try await client.registered(email: "cat@example.com")
            expectError(try await client.changePassword("{nope", bearer: auth.accessToken), .badRequest, "Invalid JSON body")
        }
    }

    /// A change from a session revoked meanwhile changes nothing: its access token is
    /// refused at once (SPEC.md §3.6); `changePasswordInARevokedSessionRollsBack` in
    /// `TransactionTests` covers the transaction itself, for a token that got past.
    @Test func aChangeThatCannotFinishChangesNothing() async throws {
        try await TestServer.withApp { client in
            let (auth, _) = try await client.registered(email: "dan@example.com")
            let phone = try await client.loginFrom("Phone", ip: "", email: "dan@example.com")
            #expect(try await client.deleteSession(try sessionID(of: auth.accessToken), bearer: phone.access).status == .noContent)
            expectError(try await client.changePassword(Self.change, bearer: auth.accessToken), .unauthorized, "Access token revoked")
            #expect(try await client.login(email: "dan@example.com").status == .ok)
            expectError(try await client.login(email: "dan@example.com", password: "brand-new-pass"), .unauthorized)
            #expect(try await client.refresh(cookie: phone.cookie).status == .ok)
        }
    }

    /// Two changes racing from one session: exactly one wins; the loser changes nothing.
    @Test func concurrentChangesCommitOnce() async throws {
        try await TestServer.withApp { client in
            let (auth, _) = try await client.registered(email: "eve@example.com")
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for index in 0..<4 {
                    group.addTask {
                        try await client.changePassword(
                            #"{"currentPassword":"secret123","newPassword":"new-password-\#(index)"}"#, bearer: auth.accessToken
                        ).status
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .ok }.count == 1, "\(statuses)")
            var working = 0
            for index in 0..<4 where try await client.login(email: "eve@example.com", password: "new-password-\(index)").status == .ok {
                working += 1
            }
            #expect(working == 1)
        }
    }
}
