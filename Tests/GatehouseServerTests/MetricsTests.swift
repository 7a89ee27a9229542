import Foundation
import Gatehouse
import Testing

@testable import GatehouseServer

/// `GET /metrics` (SPEC.md §3.8), on a real process: the HTTP series move by exactly what
/// a scripted flow did, labelled by route template (never the raw path), and
/// `METRICS=off` removes the route.
@Suite struct MetricsTests {
    /// The samples of a Prometheus text exposition: `name{labels}` → value.
    static func samples(_ port: Int) throws -> [String: Double] {
        let answer = try #require(exchange(port: port, "GET", "/metrics"))
        try #require(answer.status == 200)
        #expect(answer.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        var samples: [String: Double] = [:]
        for line in answer.body.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            samples[String(line[..<space])] = value
        }
        return samples
    }

    static func requests(_ route: String, _ method: String, _ status: Int) -> String {
        #"hb_requests{http_route="\#(route)",http_request_method="\#(method)",http_response_status_code="\#(status)"}"#
    }

    static func durations(_ route: String, _ method: String, _ status: Int) -> String {
        #"http_server_request_duration_count{http_route="\#(route)",http_request_method="\#(method)",http_response_status_code="\#(status)"}"#
    }

    @Test func theHTTPSeriesCountWhatAFlowDid() async throws {
        try await blocking {
            try withFreshServer { server in
                let before = try Self.samples(server.port)
                let registered = try #require(exchange(port: server.port, "POST", "/api/v1/auth/register", json: FleetTests.alice))
                let access = try #require(registered.string("accessToken"))
                for _ in 0..<2 { _ = exchange(port: server.port, "POST", "/api/v1/auth/login", json: #"{"email":"alice@example.com","password":"secret123"}"#) }
                _ = exchange(port: server.port, "POST", "/api/v1/auth/login", json: #"{"email":"alice@example.com","password":"wrong-one"}"#)
                for _ in 0..<3 { _ = exchange(port: server.port, "GET", "/api/v1/users/me", headers: ["Authorization": "Bearer \(access)"]) }
                for id in ["5b1e6d0c-3f43-4c0e-9c8c-0d8d3c1e9a11", "9f0b8a2e-7c1d-4e5f-8a9b-1c2d3e4f5a6b"] {
                    _ = exchange(port: server.port, "DELETE", "/api/v1/auth/sessions/\(id)", headers: ["Authorization": "Bearer \(access)"])
                }
                _ = exchange(port: server.port, "GET", "/no/such/path")
                let after = try Self.samples(server.port)
                let expected: [(String, String, Int, Double)] = [
                    ("/api/v1/auth/register", "POST", 201, 1), ("/api/v1/auth/login", "POST", 200, 2), ("/api/v1/auth/login", "POST", 401, 1),
                    ("/api/v1/users/me", "GET", 200, 3), ("/api/v1/auth/sessions/{id}", "DELETE", 404, 2), ("NotFound", "GET", 404, 1),
                ]
                for (route, method, status, count) in expected {
                    let moved = (after[Self.requests(route, method, status)] ?? 0) - (before[Self.requests(route, method, status)] ?? 0)
                    #expect(moved == count, "\(method) \(route) \(status)")
                    let timed = (after[Self.durations(route, method, status)] ?? 0) - (before[Self.durations(route, method, status)] ?? 0)
                    #expect(timed == count, "\(method) \(route) \(status) duration count")
                }
                // Paths with ids are one series, by template; no raw path is a label.
                let exposition = try #require(exchange(port: server.port, "GET", "/metrics")).body
                #expect(!exposition.contains("5b1e6d0c-3f43"))
                #expect(!exposition.contains("/no/such/path"))
                #expect(exposition.contains(#"le="0.00005""#), "a 50 µs bucket")
            }
        }
    }

    /// The flows' counters move by exactly what a scripted flow did.
    @Test func theAuthCountersCountWhatAFlowDid() async throws {
        try await blocking {
            try withFreshServer(["RATE_LIMIT_LOGIN": "4/1m", "RATE_LIMIT_REGISTER": "1/1h", "RATE_LIMIT_REFRESH": "5/1m"]) { server in
                let port = server.port
                let before = try Self.samples(port)
                let login = #"{"email":"alice@example.com","password":"secret123"}"#
                let wrong = #"{"email":"alice@example.com","password":"wrong-one"}"#

                // One registration (one hash); logins: two good, two wrong (four comparisons), then the limit.
                let registered = try #require(exchange(port: port, "POST", "/api/v1/auth/register", json: Self.alice))
                let first = try #require(registered.refreshCookie)
                let signedIn = [exchange(port: port, "POST", "/api/v1/auth/login", json: login), exchange(port: port, "POST", "/api/v1/auth/login", json: login)]
                #expect(exchange(port: port, "POST", "/api/v1/auth/login", json: wrong)?.status == 401)
                #expect(exchange(port: port, "POST", "/api/v1/auth/login", json: wrong)?.status == 401)
                #expect(exchange(port: port, "POST", "/api/v1/auth/login", json: login)?.status == 429)

                // Refreshes: rotated, grace (the same token again at once), rotated, reuse, and
                // two refused (no cookie, a garbage one).
                func refresh(_ cookie: String?) -> HTTPAnswer? {
                    exchange(port: port, "POST", "/api/v1/auth/refresh", headers: cookie.map { ["Cookie": "refreshToken=\($0)"] } ?? [:])
                }
                let second = try #require(refresh(first)?.refreshCookie)
                #expect(refresh(first)?.status == 200)
                #expect(refresh(second)?.status == 200)
                #expect(refresh(first)?.string("message") == "Session expired, please log in again")
                #expect(refresh(nil)?.status == 401)
                #expect(refresh("garbage")?.status == 401)
                // The sixth refresh that reached the limiter, and a second registration: refused by their limits.
                #expect(refresh(second)?.status == 429)
                let bob = #"{"name":"Bob","email":"bob@example.com","password":"secret123"}"#
                #expect(exchange(port: port, "POST", "/api/v1/auth/register", json: bob)?.status == 429)

                // Logouts: one local, one everywhere.
                let tokens = try signedIn.map { try #require($0?.string("accessToken")) }
                #expect(exchange(port: port, "POST", "/api/v1/auth/logout?scope=local", headers: ["Authorization": "Bearer \(tokens[0])"])?.status == 204)
                #expect(exchange(port: port, "POST", "/api/v1/auth/logout", headers: ["Authorization": "Bearer \(tokens[1])"])?.status == 204)

                let after = try Self.samples(port)
                func moved(_ name: String) -> Double { (after[name] ?? 0) - (before[name] ?? 0) }
                let expected: [(String, Double)] = [
                    (#"gatehouse_registrations_total"#, 1),
                    (#"gatehouse_logins_total{result="success"}"#, 2),
                    (#"gatehouse_logins_total{result="failure"}"#, 2),
                    (#"gatehouse_logins_total{result="throttled"}"#, 1),
                    (#"gatehouse_rate_limit_refusals_total{limit="login"}"#, 1),
                    (#"gatehouse_rate_limit_refusals_total{limit="register"}"#, 1),
                    (#"gatehouse_rate_limit_refusals_total{limit="refresh"}"#, 1),
                    (#"gatehouse_refreshes_total{outcome="rotated"}"#, 2),
                    (#"gatehouse_refreshes_total{outcome="grace"}"#, 1),
                    (#"gatehouse_refreshes_total{outcome="reuse_detected"}"#, 1),
                    (#"gatehouse_refreshes_total{outcome="refused"}"#, 2),
                    (#"gatehouse_logouts_total{scope="local"}"#, 1),
                    (#"gatehouse_logouts_total{scope="all"}"#, 1),
                    // The reuse revoked a session, the local logout another, "all" a version.
                    (#"gatehouse_revocations_applied_total"#, 3),
                    (#"gatehouse_password_hash_duration_seconds_count"#, 5),
                ]
                for (name, count) in expected {
                    #expect(moved(name) == count, "\(name)")
                }
                #expect(after[#"gatehouse_database_unavailable_total"#, default: 0] == 0)
            }
        }
    }

    static let alice = FleetTests.alice

    @Test func metricsOffRemovesTheRoute() async throws {
        try await blocking {
            try withFreshServer(["METRICS": "off"]) { server in
                #expect(exchange(port: server.port, "GET", "/metrics")?.status == 404)
            }
        }
    }
}
