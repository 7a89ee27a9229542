import Foundation
import HTTPTypes
import Gatehouse
import Hummingbird
import HummingbirdTesting
import Testing

@testable import GatehouseServer

@Suite struct ProtectedRouteTests {
    @Test(arguments: ["/api/v1/auth/me", "/api/v1/users/me"])
    func meReturnsTheVerifiedClaims(path: String) async throws {
        try await TestServer.withApp { client in
            let (auth, _) = try await client.registered(email: "vera@example.com")
            let response = try await client.get(path, bearer: auth.accessToken)
            #expect(response.status == .ok)
            #expect(response.headers[.cacheControl] == "no-store")
            #expect(response.jsonKeys == ["sub", "role", "version", "sid", "iat", "exp", "iss"])
            let claims = try response.decode(AccessClaims.self)
            #expect(claims.sub == auth.user.id)
            #expect(claims.role == .user)
            #expect(claims.version == 0)
            #expect(claims.iss == "gatehouse")
            #expect(claims.exp - claims.iat == 900)
            #expect(claims.aud == nil)
        }
    }

    @Test func audienceIsSetAndVerifiedWhenConfigured() async throws {
        try await TestServer.withApp(TestServer.settings(audience: "https://api.example.com")) { client in
            let (auth, _) = try await client.registered(email: "wade@example.com")
            let response = try await client.get("/api/v1/users/me", bearer: auth.accessToken)
            #expect(response.status == .ok)
            #expect(try response.decode(AccessClaims.self).aud == "https://api.example.com")
        }
    }

    static let malformedHeaders: [String?] = [
        nil, "", "Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Bearer a b", "Token abc", "Bearerabc", "Bearer\tabc", "Beare abc",
        "Bearer  ", "   ", "\u{00C2}earer abc",
    ]

    @Test(arguments: malformedHeaders)
    func missingOrMalformedHeaderIsAuthenticationRequired(header: String?) async throws {
        try await TestServer.withApp { client in
            var headers: HTTPFields = [:]
            if let header { headers[.authorization] = header }
            let response = try await client.get("/api/v1/users/me", headers: headers)
            expectError(response, .unauthorized, "Authentication required")
        }
    }

    /// Two Authorization fields, even two valid tokens, are not one credential.
    @Test func twoAuthorizationFieldsAreAuthenticationRequired() async throws {
        try await TestServer.withApp { client in
            let (auth, _) = try await client.registered(email: "yves@example.com")
            var headers: HTTPFields = [:]
            headers.append(HTTPField(name: .authorization, value: "Bearer \(auth.accessToken)"))
            headers.append(HTTPField(name: .authorization, value: "Bearer \(auth.accessToken)"))
            let response = try await client.get("/api/v1/users/me", headers: headers)
            expectError(response, .unauthorized, "Authentication required")
        }
    }

    /// Spaces around and between the scheme and the token are tolerated, and the scheme
    /// in any case.
    @Test(arguments: ["  Bearer TOKEN", "Bearer   TOKEN", "Bearer TOKEN   ", "BEARER TOKEN", "bEaReR TOKEN"])
    func bearerSpellingsAreAccepted(template: String) async throws {
        try await TestServer.withApp { client in
            let (auth, _) = try await client.registered(email: "zack@example.com")
            let header = template.replacingOccurrences(of: "TOKEN", with: auth.accessToken)
            let response = try await client.get("/api/v1/users/me", headers: [.authorization: header])
            #expect(response.status == .ok, "\(header)")
        }
    }

    @Test func lowerCaseSchemeIsAccepted() async throws {
        try await TestServer.withApp { client in
            let (auth, _) = try await client.registered(email: "xena@example.com")
            let response = try await client.get("/api/v1/users/me", headers: [.authorization: "bearer \(auth.accessToken)"])
            #expect(response.status == .ok)
        }
    }

    @Test func expiryAllowsThirtySecondsOfSkewAndNoMore() async throws {
        let clock = TestClock()
        try await TestServer.withApp(clock: clock) { client in
            let (auth, _) = try await client.registered(email: "yuri@example.com")
            clock.advance(900 + 29)
            #expect(try await client.get("/api/v1/users/me", bearer: auth.accessToken).status == .ok)
            clock.advance(1)
            expectError(try await client.get("/api/v1/users/me", bearer: auth.accessToken), .unauthorized, "Access token expired")
        }
    }

    @Test func refreshTokenIsNotAnAccessToken() async throws {
        try await TestServer.withApp { client in
            let (_, cookie) = try await client.registered(email: "zoe@example.com")
            expectError(try await client.get("/api/v1/users/me", bearer: cookie), .unauthorized, "Invalid access token")
        }
    }

    @Test func tokenOfAnotherServerIsInvalid() async throws {
        let foreign = try await TestServer.withApp { client in
            try await client.registered(email: "abe@example.com").auth.accessToken
        }
        try await TestServer.withApp { client in
            expectError(try await client.get("/api/v1/users/me", bearer: foreign), .unauthorized, "Invalid access token")
        }
    }

    @Test(arguments: ["garbage", "a.b.c", "a.b", "a.b.c.d", String(repeating: "A", count: 100_000)])
    func garbageTokensAreInvalid(token: String) async throws {
        try await TestServer.withApp { client in
            expectError(try await client.get("/api/v1/users/me", bearer: token), .unauthorized, "Invalid access token")
        }
    }
}

@Suite struct OperationalTests {
    @Test func healthIsOK() async throws {
        try await TestServer.withApp { client in
            let response = try await client.get("/health")
            #expect(response.status == .ok)
            #expect(response.text == #"{"status":"ok"}"#)
            #expect(response.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
        }
    }

    @Test(arguments: ["/nope", "/api/v1/nope", "/api/v1/auth", "/api/v1/auth/register/extra", "/api/v2/auth/login"])
    func unknownRoutesAre404InTheErrorShape(path: String) async throws {
        try await TestServer.withApp { client in
            expectError(try await client.get(path), .notFound, "Not found")
        }
    }

    @Test(arguments: [
        (HTTPRequest.Method.get, "/api/v1/auth/login", "POST"),
        (.delete, "/api/v1/auth/register", "POST"),
        (.put, "/api/v1/auth/refresh", "POST"),
        (.post, "/api/v1/users/me", "GET"),
        (.post, "/health", "GET"),
    ])
    func wrongMethodsAre405WithAllow(method: HTTPRequest.Method, path: String, allow: String) async throws {
        try await TestServer.withApp { client in
            let response = try await client.executeRequest(uri: path, method: method, headers: [:], body: nil)
            expectError(response, .methodNotAllowed, "Method not allowed")
            #expect(response.headers[.allow] == allow)
        }
    }
}
