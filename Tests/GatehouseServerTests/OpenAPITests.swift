import Foundation
import Gatehouse
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@testable import GatehouseServer

/// `GET /api/v1/openapi.json` (SPEC.md §3.8) is kept true here: every route the router
/// serves is an operation of the document and every operation a served route, with
/// metrics and the account page on and off; every `$ref` resolves; every response declares the headers every
/// response carries. (`scripts/openapi-check.sh` in `.ci/run` validates it with
/// openapi-spec-validator and runs schemathesis against a live server.)
@Suite struct OpenAPITests {
    /// The served document and the routes the router serves, as `METHOD /path/{param}`.
    static func served(metrics: Bool, accountPage: Bool = true) async throws -> (document: [String: Any], routes: Set<String>, contentType: String?) {
        let database = TemporaryDatabase()
        defer { database.remove() }
        let configuration = ServerConfiguration(
            gatehouse: TestServer.settings(), port: 0, database: database.location, databasePoolSize: 2, logLevel: .warning,
            metrics: metrics, accountPage: accountPage
        )
        let (routes, response) = try await Slots.apps.with {
            var routes: [String] = []
            let app = try await buildApplication(configuration, servedRoutes: { routes = $0 })
            return (routes, try await app.test(.router) { client in try await client.get("/api/v1/openapi.json") })
        }
        #expect(response.status == .ok)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
        return (document, Set(routes), response.headers[.contentType])
    }

    /// The operations of a document, as `METHOD /path/{param}`.
    static func operations(_ document: [String: Any]) throws -> Set<String> {
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let methods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
        return Set(paths.flatMap { path, item in item.keys.filter(methods.contains).map { "\($0.uppercased()) \(path)" } })
    }

    @Test(arguments: [true, false], [true, false])
    func everyServedRouteIsDocumentedAndNothingElse(metrics: Bool, accountPage: Bool) async throws {
        let (document, routes, contentType) = try await Self.served(metrics: metrics, accountPage: accountPage)
        #expect(contentType?.hasPrefix("application/json") == true)
        #expect(document["openapi"] as? String == "3.1.0")
        let documented = try Self.operations(document)
        #expect(routes.count > 15, "the router's routes were listed")
        #expect(routes.subtracting(documented).isEmpty, "served but not documented: \(routes.subtracting(documented).sorted())")
        #expect(documented.subtracting(routes).isEmpty, "documented but not served: \(documented.subtracting(routes).sorted())")
        #expect(documented.contains("GET /metrics") == metrics)
        #expect(documented.contains("GET /account") == accountPage)
    }

    /// Resolves a local `$ref` (`#/components/…`).
    static func resolve(_ reference: String, in document: [String: Any]) -> Any? {
        guard reference.hasPrefix("#/") else { return nil }
        var node: Any? = document
        for key in reference.dropFirst(2).split(separator: "/") {
            node = (node as? [String: Any])?[String(key)]
        }
        return node
    }

    /// Every `$ref` string anywhere in `node`.
    static func references(in node: Any) -> [String] {
        if let object = node as? [String: Any] {
            return ((object["$ref"] as? String).map { [$0] } ?? []) + object.values.flatMap(references(in:))
        }
        if let array = node as? [Any] { return array.flatMap(references(in:)) }
        return []
    }

    @Test func everyReferenceResolvesAndEveryResponseCarriesTheCommonHeaders() async throws {
        let (document, _, _) = try await Self.served(metrics: true)
        let references = Self.references(in: document)
        #expect(references.count > 50)
        for reference in Set(references) {
            #expect(Self.resolve(reference, in: document) != nil, "\(reference) resolves")
        }
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        for (path, item) in paths {
            for (method, value) in item {
                let operation = try #require(value as? [String: Any])
                let responses = try #require(operation["responses"] as? [String: Any])
                let secured = !((operation["security"] as? [Any])?.isEmpty ?? true)
                // Any route that needs a credential documents the 401 that refuses it.
                #expect(!secured || responses["401"] != nil, "\(method) \(path) documents 401")
                for (status, entry) in responses {
                    var response = try #require(entry as? [String: Any])
                    if let reference = response["$ref"] as? String {
                        response = try #require(Self.resolve(reference, in: document) as? [String: Any])
                    }
                    let headers = response["headers"] as? [String: Any] ?? [:]
                    #expect(headers["X-Request-Id"] != nil, "\(method) \(path) \(status) declares X-Request-Id")
                    #expect(headers["X-Content-Type-Options"] != nil, "\(method) \(path) \(status) declares nosniff")
                    if status == "401" { #expect(headers["WWW-Authenticate"] != nil, "\(method) \(path) 401 declares WWW-Authenticate") }
                    if status == "429" { #expect(headers["Retry-After"] != nil, "\(method) \(path) 429 declares Retry-After") }
                    if status.hasPrefix("4") || status.hasPrefix("5") {
                        let schema = ((response["content"] as? [String: Any])?["application/json"] as? [String: Any])?["schema"] as? [String: Any]
                        #expect(schema?["$ref"] as? String == "#/components/schemas/Error", "\(method) \(path) \(status) is the error shape")
                    }
                }
            }
        }
    }

    /// Request bodies refuse unknown fields, as the server does (400 naming the field).
    @Test func requestBodiesAreClosed() async throws {
        let (document, _, _) = try await Self.served(metrics: true)
        let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: [String: Any]])
        for name in ["RegisterRequest", "LoginRequest", "PasswordChangeRequest", "RoleChangeRequest"] {
            #expect(schemas[name]?["additionalProperties"] as? Bool == false, "\(name)")
        }
    }

    /// The table of paths and methods behind 405 answers is written apart from the
    /// router's routes: every path the router serves answers another method with 405 and
    /// an `Allow` of exactly the methods served there.
    @Test func everyServedPathAnswersOtherMethodsWith405() async throws {
        let database = TemporaryDatabase()
        defer { database.remove() }
        let configuration = ServerConfiguration(
            gatehouse: TestServer.settings(), port: 0, database: database.location, databasePoolSize: 2, logLevel: .warning
        )
        try await Slots.apps.with {
            var routes: [String] = []
            let app = try await buildApplication(configuration, servedRoutes: { routes = $0 })
            var methods: [String: Set<String>] = [:]
            for route in routes {
                let parts = route.split(separator: " ", maxSplits: 1)
                methods[String(parts[1]), default: []].insert(String(parts[0]))
            }
            #expect(methods.count > 15)
            let table = methods
            try await app.test(.router) { client in
                for (path, served) in table {
                    let uri = path.replacingOccurrences(of: "{id}", with: "5b1e6d0c-3f43-4c0e-9c8c-0d8d3c1e9a11")
                    let response = try await client.execute(uri: uri, method: .put, headers: [:], body: nil)
                    #expect(response.status == .methodNotAllowed, "PUT \(path)")
                    let allow = Set((response.headers[.allow] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
                    #expect(allow == served, "Allow of \(path)")
                }
            }
        }
    }
}
