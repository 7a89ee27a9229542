import Foundation
import Gatehouse
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import GatehouseServer

/// SPEC.md §1 `CORS_ORIGINS`: an exact allowlist with credentials.
@Suite struct CORSTests {
    static let allowed = "https://app.example.com"
    static let origins = [allowed, "http://localhost:3000"]
    static let corsHeaders: [HTTPField.Name] = [
        .accessControlAllowOrigin, .accessControlAllowCredentials, .accessControlAllowMethods,
        .accessControlAllowHeaders, .accessControlExposeHeaders, .accessControlMaxAge,
    ]

    func expectNoCORSHeaders(_ response: TestResponse, sourceLocation: SourceLocation = #_sourceLocation) {
        for name in Self.corsHeaders {
            #expect(response.headers[name] == nil, "\(name)", sourceLocation: sourceLocation)
        }
    }

    func preflight(_ client: some TestClientProtocol, path: String, origin: String, method: String = "POST") async throws -> TestResponse {
        try await client.executeRequest(uri: path, method: .options, headers: [
            .origin: origin, .accessControlRequestMethod: method, .accessControlRequestHeaders: "content-type, authorization",
        ], body: nil)
    }

    @Test func aListedOriginGetsCredentialedAccessOnEveryAnswer() async throws {
        try await TestServer.withApp(corsOrigins: Self.origins) { client in
            let registered = try await client.postJSON(
                "/api/v1/auth/register", #"{"name":"Cors","email":"cors@example.com","password":"secret123"}"#,
                headers: [.origin: Self.allowed]
            )
            #expect(registered.status == .created)
            #expect(registered.headers[.accessControlAllowOrigin] == Self.allowed)
            #expect(registered.headers[.accessControlAllowCredentials] == "true")
            #expect(registered.headers[values: .vary].contains("Origin"))
            #expect(registered.headers[.accessControlExposeHeaders]?.contains("Retry-After") == true)

            // Errors carry the headers too, or the page could not read them.
            let unauthorized = try await client.get("/api/v1/users/me", headers: [.origin: "http://localhost:3000"])
            expectError(unauthorized, .unauthorized)
            #expect(unauthorized.headers[.accessControlAllowOrigin] == "http://localhost:3000")
            let notFound = try await client.get("/api/v1/nowhere", headers: [.origin: Self.allowed])
            expectError(notFound, .notFound)
            #expect(notFound.headers[.accessControlAllowOrigin] == Self.allowed)
        }
    }

    @Test(arguments: ["/api/v1/auth/login", "/api/v1/auth/register", "/api/v1/auth/refresh", "/api/v1/auth/logout"])
    func preflightIsAnsweredForAPIRoutes(path: String) async throws {
        try await TestServer.withApp(corsOrigins: Self.origins) { client in
            let response = try await preflight(client, path: path, origin: Self.allowed)
            #expect(response.status == .noContent)
            #expect(response.headers[.accessControlAllowOrigin] == Self.allowed)
            #expect(response.headers[.accessControlAllowCredentials] == "true")
            #expect(response.headers[.accessControlAllowMethods]?.contains("POST") == true)
            let allowedHeaders = response.headers[.accessControlAllowHeaders]?.lowercased() ?? ""
            #expect(allowedHeaders.contains("authorization") && allowedHeaders.contains("content-type"))
            #expect(response.headers[.accessControlMaxAge] == "600")
            #expect(response.headers[values: .vary].contains("Origin"))
        }
    }

    @Test func preflightForAGetRouteNamesGet() async throws {
        try await TestServer.withApp(corsOrigins: Self.origins) { client in
            let response = try await preflight(client, path: "/api/v1/users/me", origin: Self.allowed, method: "GET")
            #expect(response.status == .noContent)
            #expect(response.headers[.accessControlAllowMethods] == "GET, OPTIONS")
        }
    }

    @Test(arguments: [
        "https://evil.example", "https://app.example.com.evil.example", "http://app.example.com", "https://app.example.com:8443",
        "null", "HTTPS://APP.EXAMPLE.COM.", "",
    ])
    func anOriginNotListedGetsNoCORSHeaders(origin: String) async throws {
        try await TestServer.withApp(corsOrigins: Self.origins) { client in
            let registered = try await client.postJSON(
                "/api/v1/auth/register", #"{"name":"Evil","email":"evil@example.com","password":"secret123"}"#,
                headers: [.origin: origin]
            )
            #expect(registered.status == .created)
            expectNoCORSHeaders(registered)
            let refused = try await preflight(client, path: "/api/v1/auth/login", origin: origin)
            expectError(refused, .forbidden, "Origin not allowed")
            expectNoCORSHeaders(refused)
        }
    }

    @Test func withoutOriginsThereAreNoCORSHeadersAtAll() async throws {
        try await TestServer.withApp(corsOrigins: []) { client in
            let response = try await client.get("/health", headers: [.origin: Self.allowed])
            #expect(response.status == .ok)
            expectNoCORSHeaders(response)
            #expect(response.headers[.vary] == nil)
            let options = try await preflight(client, path: "/api/v1/auth/login", origin: Self.allowed)
            expectError(options, .methodNotAllowed)
            expectNoCORSHeaders(options)
        }
    }

    @Test func preflightForAnUnknownPathIs404() async throws {
        try await TestServer.withApp(corsOrigins: Self.origins) { client in
            let response = try await preflight(client, path: "/api/v1/secret-admin", origin: Self.allowed)
            expectError(response, .notFound)
        }
    }

    @Test func theSameOriginWithoutAnOriginHeaderIsUnaffected() async throws {
        try await TestServer.withApp(corsOrigins: Self.origins) { client in
            let response = try await client.get("/health")
            #expect(response.status == .ok)
            expectNoCORSHeaders(response)
            #expect(response.headers[values: .vary].contains("Origin"))
        }
    }
}
