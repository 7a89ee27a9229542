import Foundation
import Gatehouse
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import GatehouseServer

/// The garbage table of the hostile-input suite: every endpoint, every kind of
/// malformed request. Each must be a 4xx in the JSON error shape, never a 500, and
/// must write nothing to the database.
@Suite struct GarbageInputTests {
    struct Endpoint: Sendable, CustomTestStringConvertible {
        let method: HTTPRequest.Method
        let path: String
        var testDescription: String { "\(method) \(path)" }
    }

    static let endpoints = [
        Endpoint(method: .post, path: "/api/v1/auth/register"), Endpoint(method: .post, path: "/api/v1/auth/login"),
        Endpoint(method: .post, path: "/api/v1/auth/refresh"), Endpoint(method: .post, path: "/api/v1/auth/logout"),
        Endpoint(method: .get, path: "/api/v1/auth/me"), Endpoint(method: .get, path: "/api/v1/users/me"),
    ]

    struct Garbage: Sendable, CustomTestStringConvertible {
        let name: String
        let contentType: String?
        let body: [UInt8]
        var headers: HTTPFields = [:]
        var testDescription: String { name }

        init(_ name: String, contentType: String? = "application/json", _ body: String, headers: HTTPFields = [:]) {
            self.name = name
            self.contentType = contentType
            self.body = Array(body.utf8)
            self.headers = headers
        }

        init(_ name: String, contentType: String? = "application/json", bytes: [UInt8]) {
            self.name = name
            self.contentType = contentType
            self.body = bytes
        }
    }

    static let valid = #"{"name":"Garbage","email":"garbage@example.com","password":"secret123"}"#

    static let table: [Garbage] = [
        Garbage("text/plain", contentType: "text/plain", valid),
        Garbage("form encoded", contentType: "application/x-www-form-urlencoded", "name=Garbage&email=garbage%40example.com&password=secret123"),
        Garbage("multipart", contentType: "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\na@b.co\r\n--x--"),
        Garbage("xml", contentType: "application/xml", "<user><email>a@b.co</email></user>"),
        Garbage("no content type", contentType: nil, valid),
        Garbage("json content type typo", contentType: "application/jsonp", valid),
        Garbage("empty body", ""),
        Garbage("whitespace body", "   \n\t "),
        Garbage("array", #"[{"email":"garbage@example.com","password":"secret123"}]"#),
        Garbage("nested objects", #"{"name":{"first":"Gar"},"email":{"address":"garbage@example.com"},"password":{"value":"secret123"}}"#),
        Garbage("numbers for strings", #"{"name":42,"email":1e3,"password":12345678}"#),
        Garbage("nulls for strings", #"{"name":null,"email":null,"password":null}"#),
        Garbage("booleans for strings", #"{"name":true,"email":false,"password":true}"#),
        Garbage("arrays for strings", #"{"name":["Garbage"],"email":["garbage@example.com"],"password":["secret123"]}"#),
        Garbage("huge number", #"{"name":"Garbage","email":"garbage@example.com","password":1e999}"#),
        Garbage("deep nesting", "{\"name\":" + String(repeating: "[", count: 3_000) + String(repeating: "]", count: 3_000) + "}"),
        Garbage("invalid UTF-8", bytes: Array(#"{"name":"Gar"#.utf8) + [0xC3, 0x28, 0xFF] + Array(#"","email":"garbage@example.com","password":"secret123"}"#.utf8)),
        Garbage("UTF-16 body", bytes: [0xFF, 0xFE] + Array(#"{"a":1}"#.utf8).flatMap { [$0, 0] }),
        Garbage("raw NUL byte", bytes: Array(#"{"name":"Gar"#.utf8) + [0] + Array(#"bage","email":"garbage@example.com","password":"secret123"}"#.utf8)),
        Garbage("escaped NUL in password", #"{"name":"Garbage","email":"garbage@example.com","password":"secret\u0000123"}"#),
        Garbage("escaped NUL in email", #"{"name":"Garbage","email":"garbage@example.com\u0000.evil","password":"secret123"}"#),
        Garbage("escaped NUL in name", #"{"name":"Gar\u0000bage","email":"garbage@example.com","password":"secret123"}"#),
        Garbage("unicode email local part", #"{"name":"Garbage","email":"gärbage@example.com","password":"secret123"}"#),
        Garbage("unicode email domain", #"{"name":"Garbage","email":"garbage@exämple.com","password":"secret123"}"#),
        Garbage("right-to-left override in email", #"{"name":"Garbage","email":"garbage\u202e@example.com","password":"secret123"}"#),
        Garbage("newline in email", #"{"name":"Garbage","email":"garbage@example.com\nBcc: all@example.com","password":"secret123"}"#),
        Garbage("bell in email", #"{"name":"Garbage","email":"gar\u0007bage@example.com","password":"secret123"}"#),
        Garbage("fullwidth at sign", #"{"name":"Garbage","email":"garbage＠example.com","password":"secret123"}"#),
        Garbage("name of spaces", #"{"name":"      ","email":"garbage@example.com","password":"secret123"}"#),
        Garbage("name of tabs and newlines", #"{"name":"\t\n\r\n","email":"garbage@example.com","password":"secret123"}"#),
        Garbage("name of unicode spaces", #"{"name":"\u00a0\u2003\u3000","email":"garbage@example.com","password":"secret123"}"#),
        Garbage("name of zero-width spaces", #"{"name":"\u200b\u200b\u200b","email":"garbage@example.com","password":"secret123"}"#),
        Garbage("control characters in name", #"{"name":"Gar\u001bbage","email":"garbage@example.com","password":"secret123"}"#),
        Garbage("role smuggled in", #"{"name":"Garbage","email":"garbage@example.com","password":"secret123","role":"admin"}"#),
        Garbage("duplicate keys", #"{"name":"Garbage","email":"garbage@example.com","password":"secret123","email":"admin@example.com"}"#),
        Garbage("73-byte password", #"{"name":"Garbage","email":"garbage@example.com","password":"\#(String(repeating: "p", count: 73))"}"#),
        Garbage("lone surrogate", #"{"name":"Gar\ud800bage","email":"garbage@example.com","password":"secret123"}"#),
        Garbage("bearer garbage", "", headers: [.authorization: "Bearer \u{1}\u{2}not-a-token"]),
        Garbage("basic auth", "", headers: [.authorization: "Basic YWRtaW46YWRtaW4="]),
        Garbage("cookie garbage", "", headers: [.cookie: "refreshToken=%%%; refreshToken=..; other=1"]),
    ]

    /// Register and login reject these before writing anything; the other endpoints
    /// need a token or cookie the garbage does not have.
    @Test(arguments: endpoints, table)
    func garbageIsAClientErrorAndWritesNothing(endpoint: Endpoint, garbage: Garbage) async throws {
        let database = TemporaryDatabase()
        defer { database.remove() }
        try await TestServer.withApp(database: database) { client in
            var headers = garbage.headers
            if let contentType = garbage.contentType { headers[.contentType] = contentType }
            let response = try await client.executeRequest(
                uri: endpoint.path, method: endpoint.method, headers: headers, body: ByteBuffer(bytes: garbage.body)
            )
            let code = response.status.code
            #expect((400..<500).contains(code), "\(endpoint.testDescription) \(garbage.name): \(response.status) \(response.text)")
            expectError(response, response.status)
        }
        let counts = try await rowCounts(database)
        #expect(counts.users == 0 && counts.sessions == 0, "\(garbage.name) wrote \(counts)")
    }

    @Test(arguments: endpoints)
    func tenMegabytesAreRefusedAndWriteNothing(endpoint: Endpoint) async throws {
        let database = TemporaryDatabase()
        defer { database.remove() }
        try await TestServer.withApp(database: database) { client in
            let body = ByteBuffer(repeating: UInt8(ascii: " "), count: 10 * 1024 * 1024)
            let response = try await client.executeRequest(
                uri: endpoint.path, method: endpoint.method, headers: [.contentType: "application/json"], body: body
            )
            #expect((400..<500).contains(response.status.code), "\(response.status)")
            expectError(response, response.status)
        }
        let counts = try await rowCounts(database)
        #expect(counts.users == 0 && counts.sessions == 0)
    }
}
