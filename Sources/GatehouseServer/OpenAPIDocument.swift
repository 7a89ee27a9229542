import Foundation
import Gatehouse

/// The OpenAPI 3.1 document served at `GET /api/v1/openapi.json` (SPEC.md §3.8): every
/// route the server serves, with its request body, parameters, statuses, headers and the
/// refresh cookie. Made once per application, for the routes that configuration serves.
///
/// It is JSON text assembled from small builders rather than a model from a library: the
/// document is read by people as much as by tools, the builders keep the order a reader
/// (and schemathesis, which runs operations in document order) wants, and adding
/// OpenAPIKit would cost a dependency and minutes of build for no check the tests below do
/// not already make. It is kept true by `OpenAPITests` (every route the router serves is
/// in it and nothing else) and by `scripts/openapi-check.sh` in `.ci/run`
/// (openapi-spec-validator, then schemathesis against a live server: every answer must
/// be a documented status with a conforming body and headers).
enum OpenAPIDocument {
    /// The document for a server that serves `/metrics` and `/account`, or not.
    static func json(metrics: Bool, accountPage: Bool) -> [UInt8] {
        var paths: [(String, String)] = [
            ("/health", object([("get", OpenAPIOperations.health)])),
            ("/health/ready", object([("get", OpenAPIOperations.ready)])),
        ]
        if metrics {
            paths.append(("/metrics", object([("get", OpenAPIOperations.metrics)])))
        }
        if accountPage {
            paths += OpenAPIOperations.accountPage
        }
        paths += OpenAPIOperations.paths
        let document = object([
            ("openapi", quoted("3.1.0")),
            ("info", object([
                ("title", quoted("Gatehouse")),
                ("version", quoted(GatehouseVersion.current)),
                ("description", quoted(
                    "JWT authentication server. Every error body is {\"status\":\"error\",\"message\":…}, validation errors add "
                        + "\"errors\". Every response carries X-Request-Id and X-Content-Type-Options: nosniff; every 401 carries "
                        + "WWW-Authenticate: Bearer. Unknown routes are 404 and other methods on a known route 405 with Allow."
                )),
            ])),
            ("paths", object(paths)),
            ("components", OpenAPIComponents.all),
        ])
        return Array(document.utf8)
    }

    // MARK: JSON text builders

    /// `{"k":v,…}` in the order given; values are JSON text already.
    static func object(_ members: [(String, String)]) -> String {
        "{" + members.map { quoted($0.0) + ":" + $0.1 }.joined(separator: ",") + "}"
    }

    /// `[v,…]`; values are JSON text already.
    static func array(_ values: [String]) -> String {
        "[" + values.joined(separator: ",") + "]"
    }

    /// A JSON string literal (the token library's writer, as the log lines use).
    static func quoted(_ text: String) -> String {
        var bytes: [UInt8] = []
        JSONText.appendString(text, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `{"$ref":"#/components/KIND/NAME"}`.
    static func ref(_ kind: String, _ name: String) -> String {
        object([("$ref", quoted("#/components/\(kind)/\(name)"))])
    }

    /// An operation: summary, id, tags, parameters (X-Request-Id always), body, security
    /// and responses by status.
    static func operation(
        _ summary: String, id: String, tag: String, security: [String] = [], parameters: [String] = [],
        body: String? = nil, responses: [(String, String)]
    ) -> String {
        var members: [(String, String)] = [
            ("summary", quoted(summary)), ("operationId", quoted(id)), ("tags", array([quoted(tag)])),
            ("parameters", array(parameters + [ref("parameters", "RequestId")])),
        ]
        if let body {
            members.append(("requestBody", object([
                ("required", "true"),
                ("content", object([("application/json", object([("schema", body)]))])),
            ])))
        }
        // No security: a public route. Otherwise the one scheme it needs.
        members.append(("security", array(security.map { object([($0, "[]")]) })))
        members.append(("responses", object(responses)))
        return object(members)
    }

    /// A response: its description, its body (JSON unless `mediaType` says otherwise) and
    /// its headers; X-Request-Id and X-Content-Type-Options are on every one.
    static func response(
        _ description: String, schema: String? = nil, mediaType: String = "application/json", headers: [(String, String)] = []
    ) -> String {
        var members: [(String, String)] = [("description", quoted(description))]
        let common = [("X-Request-Id", ref("headers", "RequestId")), ("X-Content-Type-Options", ref("headers", "ContentTypeOptions"))]
        members.append(("headers", object(common + headers)))
        if let schema {
            members.append(("content", object([(mediaType, object([("schema", schema)]))])))
        }
        return object(members)
    }
}
