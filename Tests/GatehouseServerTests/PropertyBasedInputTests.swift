import Foundation
import Gatehouse
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PropertyBased
import Testing

@testable import GatehouseServer

/// The property-based part of the hostile-input suite: random methods, paths, content
/// types, bodies (raw bytes and random JSON shapes) and headers against every endpoint.
/// Whatever arrives, the answer is below 500, every error is in the JSON error shape,
/// and nothing a client sends creates an admin.
@Suite struct PropertyBasedInputTests {
    static let paths = [
        "/api/v1/auth/register", "/api/v1/auth/login", "/api/v1/auth/refresh", "/api/v1/auth/logout",
        "/api/v1/auth/me", "/api/v1/users/me", "/health", "/api/v1/auth/logout?scope=others", "/api/v1/auth/logout?scope=%00",
    ]
    static let methods: [HTTPRequest.Method] = [.get, .post, .post, .post, .put, .delete, .patch, .options, .head]
    static let keys = ["name", "email", "password", "role", "scope", "id", "tokenVersion", "__proto__", ""]

    /// Random choices (which endpoint, which shape), random Unicode text, random bytes.
    static let choices = Gen<Int>.int(in: 0...1_000_000).array(of: 16)
    static let texts = Gen<UnicodeScalar>.unicodeScalar(in: "\u{0}"..."\u{D7FF}").array(of: 0...24).array(of: 6)
    static let bytes = Gen<UInt8>.value(in: 0...255).array(of: 0...200)

    struct RandomRequest {
        var method: HTTPRequest.Method
        var path: String
        var headers: HTTPFields
        var body: [UInt8]
    }

    /// Builds a request from the generated values.
    static func request(choices: [Int], texts: [[UnicodeScalar]], bytes: [UInt8]) -> RandomRequest {
        let strings = texts.map { String(String.UnicodeScalarView($0)) }
        var pick = choices.makeIterator()
        func next(_ count: Int) -> Int { (pick.next() ?? 0) % count }
        func printable(_ text: String) -> String { String(text.unicodeScalars.filter { (0x20..<0x7F).contains($0.value) }.map(Character.init)) }

        func jsonString(_ text: String) -> String { String(decoding: try! JSONEncoder().encode(text), as: UTF8.self) }
        func value(depth: Int) -> String {
            switch next(depth > 1 ? 5 : 8) {
            case 0: return jsonString(strings[next(strings.count)])
            case 1: return jsonString("user\(next(1000))@example.com")
            case 2: return ["0", "-1", "1e999", "3.14", "12345678901234567890"][next(5)]
            case 3: return ["null", "true", "false"][next(3)]
            case 4: return jsonString(["admin", "secret123", "  ", "Al"][next(4)])
            case 5: return "[" + (0..<next(3)).map { _ in value(depth: depth + 1) }.joined(separator: ",") + "]"
            default: return object(depth: depth + 1)
            }
        }
        func object(depth: Int) -> String {
            let members = (0..<next(5)).map { _ in
                let key = next(4) == 0 ? strings[next(strings.count)] : keys[next(keys.count)]
                return jsonString(key) + ":" + value(depth: depth)
            }
            return "{" + members.joined(separator: ",") + "}"
        }

        var headers: HTTPFields = [:]
        let contentTypes = ["application/json", "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded",
                            "application/problem+json", printable(strings[0]), ""]
        let contentType = contentTypes[next(contentTypes.count)]
        if !contentType.isEmpty { headers[.contentType] = contentType }
        switch next(4) {
        case 0: headers[.authorization] = "Bearer " + printable(strings[1])
        case 1: headers[.authorization] = "Bearer " + Base64URLish.segments(bytes)
        case 2: headers[.authorization] = printable(strings[1])
        default: break
        }
        if next(2) == 0 { headers[.cookie] = "refreshToken=" + printable(strings[2]) }
        if next(3) == 0 { headers[HTTPField.Name("X-Forwarded-For")!] = printable(strings[3]) }
        if next(3) == 0 { headers[.origin] = ["https://app.example.com", printable(strings[4]), "null"][next(3)] }

        let body: [UInt8] = switch next(4) {
        case 0: bytes
        case 1: Array(object(depth: 0).utf8)
        case 2: Array(value(depth: 0).utf8)
        default: []
        }
        var path = paths[next(paths.count)]
        if next(8) == 0 { path += "/" + printable(strings[5]).addingPercentEncoding(withAllowedCharacters: .urlPathAllowed)! }
        return RandomRequest(method: methods[next(methods.count)], path: path, headers: headers, body: body)
    }

    /// Byte soup shaped like a token: three dot-separated segments.
    enum Base64URLish {
        static func segments(_ bytes: [UInt8]) -> String {
            let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
            let text = String(bytes.map { alphabet[Int($0) % alphabet.count] })
            let third = text.count / 3
            return String(text.prefix(third)) + "." + String(text.dropFirst(third).prefix(third)) + "." + String(text.dropFirst(2 * third))
        }
    }

    @Test func randomRequestsNeverCauseAServerError() async throws {
        let database = TemporaryDatabase()
        defer { database.remove() }
        let settings = TestServer.settings(rateLimits: RateLimits(), trustProxy: true)
        try await TestServer.withApp(settings, database: database, corsOrigins: ["https://app.example.com"]) { client in
            // A real account, so some random logins and tokens reach deeper code.
            _ = try await client.registered(email: "user1@example.com", password: "secret123")
            await propertyCheck(count: 400, input: Self.choices, Self.texts, Self.bytes) { choices, texts, bytes in
                let request = Self.request(choices: choices, texts: texts, bytes: bytes)
                let response = try await client.executeRequest(
                    uri: request.path, method: request.method, headers: request.headers, body: ByteBuffer(bytes: request.body)
                )
                #expect(response.status.code < 500, "\(request.method) \(request.path) \(request.headers): \(response.status) \(response.text)")
                if response.status.code >= 400, request.method != .head {
                    #expect(response.error?.status == "error", "\(request.method) \(request.path): \(response.text)")
                    #expect(response.error?.message.isEmpty == false)
                    #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
                }
            }
        }
        let admins = try await count("SELECT COUNT(*) AS n FROM gatehouse_users WHERE role <> 'user'", in: database)
        #expect(admins == 0)
    }
}
