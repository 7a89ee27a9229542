import Foundation
import Gatehouse
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InMemoryLogging
import Logging
import Testing

@testable import GatehouseServer

/// One log line per request and the request id (SPEC.md §3.8).
@Suite struct RequestLogTests {
    struct Line {
        let metadata: [String: String]
        subscript(key: String) -> String? { metadata[key] }
    }

    /// The `request` lines logged, in order.
    static func requestLines(_ handler: InMemoryLogHandler) -> [Line] {
        handler.entries.filter { $0.message.description == "request" }.map { entry in
            Line(metadata: entry.metadata.mapValues { "\($0)" })
        }
    }

    @Test func everyRequestGetsOneLineWithItsIdAndNothingSecret() async throws {
        let handler = InMemoryLogHandler()
        let logger = Logger(label: "gatehouse.test") { _ in handler }
        let settings = TestServer.settings(rateLimits: RateLimits(login: RateLimit(2, per: 60)))
        let (answers, userID, access, cookie) = try await TestServer.withApp(settings, logger: logger, setup: .live) { client in
            let (auth, cookie) = try await client.registered(email: "lines@example.com")
            var answers: [(label: String, response: TestResponse)] = []
            answers.append(("refresh", try await client.refresh(cookie: cookie)))
            answers.append(("me", try await client.get("/api/v1/users/me?token=query-secret", bearer: auth.accessToken)))
            answers.append(("session", try await client.execute(uri: "/api/v1/auth/sessions/5b1e6d0c-3f43-4c0e-9c8c-0d8d3c1e9a11", method: .delete, headers: [.authorization: "Bearer \(auth.accessToken)"])))
            answers.append(("404", try await client.get("/nowhere?x=1")))
            answers.append(("405", try await client.execute(uri: "/api/v1/auth/login", method: .get)))
            answers.append(("413", try await client.postJSON("/api/v1/auth/login", String(repeating: " ", count: 70_000) + "{}")))
            for _ in 0..<2 { _ = try await client.login(email: "lines@example.com", password: "wrong-password") }
            answers.append(("429", try await client.login(email: "lines@example.com", password: "wrong-password")))
            answers.append(("401", try await client.get("/api/v1/users/me", bearer: "not-a-token")))
            return (answers, auth.user.id, auth.accessToken, cookie)
        }
        let lines = Self.requestLines(handler)
        let expected: [String: (status: String, route: String, path: String, user: String?)] = [
            "me": ("200", "/api/v1/users/me", "/api/v1/users/me", userID),
            "refresh": ("200", "/api/v1/auth/refresh", "/api/v1/auth/refresh", userID),
            "session": ("404", "/api/v1/auth/sessions/{id}", "/api/v1/auth/sessions/5b1e6d0c-3f43-4c0e-9c8c-0d8d3c1e9a11", userID),
            "404": ("404", "NotFound", "/nowhere", nil),
            "405": ("405", "NotFound", "/api/v1/auth/login", nil),
            "413": ("413", "/api/v1/auth/login", "/api/v1/auth/login", nil),
            "429": ("429", "/api/v1/auth/login", "/api/v1/auth/login", nil),
            "401": ("401", "/api/v1/users/me", "/api/v1/users/me", nil),
        ]
        for (label, response) in answers {
            let id = try #require(response.headers[.xRequestID], "\(label)")
            #expect(id.count == 32 && id.allSatisfy(\.isHexDigit), "\(label): \(id)")
            let matching = lines.filter { $0["request_id"] == id }
            #expect(matching.count == 1, "\(label): \(matching.count) lines")
            guard let line = matching.first, let want = expected[label] else { continue }
            #expect(line["status"] == want.status, "\(label)")
            #expect(line["route"] == want.route, "\(label)")
            #expect(line["path"] == want.path, "\(label)")
            #expect(line["user_id"] == want.user, "\(label)")
            #expect(line["client_ip"] != nil, "\(label)")
            #expect(line["method"] != nil && Double(line["duration_ms"] ?? "") != nil, "\(label)")
        }
        // The registration's line names the user it made; every line of a request (the
        // library's "Login failed" too) carries its id.
        #expect(lines.contains { $0["route"] == "/api/v1/auth/register" && $0["status"] == "201" && $0["user_id"] == userID })
        let failures = handler.entries.filter { $0.message.description == "Login failed" }
        #expect(failures.count >= 2)
        #expect(failures.allSatisfy { $0.metadata["request_id"] != nil })
        let text = handler.entries.map { "\($0.message) \($0.metadata)" }.joined(separator: "\n")
        for secret in ["query-secret", "x=1", access, "wrong-password", "not-a-token", cookie, try #require(answers.first?.response.refreshCookie)] {
            #expect(!text.contains(secret), "\(secret) was logged")
        }
    }

    @Test(arguments: [
        ("client-id.42_A", true), (String(repeating: "a", count: 128), true), (String(repeating: "a", count: 129), false),
        ("has space", false), ("ünïcode", false), ("semi;colon", false), ("", false), ("a/b", false), ("a:b", false),
        ("a+b", false), ("a=b", false), ("a%2Fb", false),
    ])
    func aClientRequestIdIsKeptOnlyWhenWellFormed(id: String, kept: Bool) async throws {
        try await TestServer.withApp { client in
            let response = try await client.get("/health", headers: [.xRequestID: id])
            let answered = try #require(response.headers[.xRequestID])
            if kept {
                #expect(answered == id)
            } else {
                #expect(answered != id && answered.count == 32 && answered.allSatisfy(\.isHexDigit))
            }
        }
    }

    /// Behind the middleware, Hummingbird's `context.id` (which reads `hb.request.id` and
    /// traps without it) is the request id too, in an embedder's own router.
    @Test func contextIDIsTheRequestID() async throws {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: RequestLogMiddleware<BasicRequestContext>(configuration: TestServer.settings(), peerAddress: .unavailable))
        router.get("id") { _, context in context.id }
        try await Application(router: router).test(.router) { client in
            let response = try await client.execute(uri: "/id", method: .get, headers: [.xRequestID: "trace-7"])
            #expect(String(buffer: response.body) == "trace-7")
            #expect(response.headers[.xRequestID] == "trace-7")
        }
    }
}
