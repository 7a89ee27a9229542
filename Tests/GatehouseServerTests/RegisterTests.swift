import Foundation
import HTTPTypes
import Gatehouse
import Hummingbird
import HummingbirdTesting
import Testing

@testable import GatehouseServer

@Suite struct RegisterTests {
    @Test func registerReturnsTokenUserAndCookie() async throws {
        try await TestServer.withApp { client in
            let response = try await client.register(name: "  Alice  ", email: " Alice@Example.COM ")
            #expect(response.status == .created)
            #expect(response.jsonKeys == ["accessToken", "user"])
            let body = try response.decode(AuthResponse.self)
            #expect(body.user.name == "Alice")
            #expect(body.user.email == "alice@example.com")
            #expect(body.user.role == .user)
            #expect(UUID(uuidString: body.user.id) != nil)
            let userKeys = try #require(JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])["user"]
            #expect(Set((userKeys as? [String: Any])?.keys ?? [:].keys) == ["id", "name", "email", "role"])
            #expect(response.headers[.cacheControl] == "no-store")
            #expect(response.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
            let cookie = try #require(response.headers[.setCookie])
            let token = try #require(response.refreshCookie)
            #expect(cookie == "refreshToken=\(token); Path=/api/v1/auth/refresh; Max-Age=604800; HttpOnly; SameSite=Strict")
        }
    }

    @Test func productionCookieIsSecure() async throws {
        try await TestServer.withApp(TestServer.settings(environment: .production)) { client in
            let response = try await client.register(email: "bob@example.com")
            #expect(response.headers[.setCookie]?.hasSuffix("; HttpOnly; SameSite=Strict; Secure") == true)
        }
    }

    @Test func duplicateEmailInAnyCaseIs409() async throws {
        try await TestServer.withApp { client in
            _ = try await client.registered(email: "carol@example.com")
            let again = try await client.register(email: "CAROL@example.com")
            expectError(again, .conflict, "Email already registered")
        }
    }

    @Test func concurrentRegistrationsOfOneEmailGiveExactlyOneUser() async throws {
        try await TestServer.withApp { client in
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for index in 0..<20 {
                    group.addTask {
                        let email = index.isMultiple(of: 2) ? "race@example.com" : "RACE@example.com"
                        return try await client.register(email: email).status
                    }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .created }.count == 1)
            #expect(statuses.filter { $0 == .conflict }.count == 19)
        }
    }

    static let invalidBodies: [(body: String, field: String, message: String)] = [
        (#"{"email":"a@example.com","password":"secret123"}"#, "name", "is required"),
        (#"{"name":"Al","password":"secret123"}"#, "email", "is required"),
        (#"{"name":"Al","email":"a@example.com"}"#, "password", "is required"),
        (#"{"name":42,"email":"a@example.com","password":"secret123"}"#, "name", "must be a string"),
        (#"{"name":"Al","email":null,"password":"secret123"}"#, "email", "must be a string"),
        (#"{"name":"Al","email":"a@example.com","password":["secret123"]}"#, "password", "must be a string"),
        (#"{"name":"Al","email":"a@example.com","password":"secret123","role":"admin"}"#, "role", "is not allowed"),
        (#"{"name":"A","email":"a@example.com","password":"secret123"}"#, "name", "must be between 2 and 100 characters"),
        (#"{"name":"   ","email":"a@example.com","password":"secret123"}"#, "name", "must be between 2 and 100 characters"),
        (#"{"name":" \u00a0\u2003 ","email":"a@example.com","password":"secret123"}"#, "name", "must be between 2 and 100 characters"),
        ("{\"name\":\"\(String(repeating: "x", count: 101))\",\"email\":\"a@example.com\",\"password\":\"secret123\"}", "name", "must be between 2 and 100 characters"),
        (#"{"name":"Al\u0000ce","email":"a@example.com","password":"secret123"}"#, "name", "must not contain control characters"),
        (#"{"name":"Al","email":"not-an-email","password":"secret123"}"#, "email", "must be a valid email address"),
        (#"{"name":"Al","email":"a@b","password":"secret123"}"#, "email", "must be a valid email address"),
        (#"{"name":"Al","email":"ä@example.com","password":"secret123"}"#, "email", "must be a valid email address"),
        (#"{"name":"Al","email":"a\u0007@example.com","password":"secret123"}"#, "email", "must be a valid email address"),
        ("{\"name\":\"Al\",\"email\":\"\(String(repeating: "a", count: 64))@\(String(repeating: "b", count: 189)).com\",\"password\":\"secret123\"}", "email", "must be a valid email address"),
        (#"{"name":"Al","email":"a@example.com","password":"short12"}"#, "password", "must be between 8 and 72 bytes"),
        ("{\"name\":\"Al\",\"email\":\"a@example.com\",\"password\":\"\(String(repeating: "p", count: 73))\"}", "password", "must be between 8 and 72 bytes"),
        // 37 two-byte characters are 74 bytes: the limit is bytes, not characters.
        ("{\"name\":\"Al\",\"email\":\"a@example.com\",\"password\":\"\(String(repeating: "é", count: 37))\"}", "password", "must be between 8 and 72 bytes"),
        (#"{"name":"Al","email":"a@example.com","password":"secret12\u0000x"}"#, "password", "must not contain NUL characters"),
    ]

    @Test(arguments: invalidBodies)
    func invalidRegistrationIs400NamingTheField(body: String, field: String, message: String) async throws {
        try await TestServer.withApp { client in
            let response = try await client.postJSON("/api/v1/auth/register", body)
            expectError(response, .badRequest)
            let error = try #require(response.error)
            #expect(error.errors?.contains(FieldError(field: field, message: message)) == true, "\(response.text)")
            #expect(error.message.contains(field))
            #expect(response.headers[.setCookie] == nil)
            // Nothing was written: the same email still registers.
            #expect(try await client.register(email: "a@example.com").status == .created)
        }
    }

    @Test func seventyTwoByteMultibytePasswordIsAccepted() async throws {
        try await TestServer.withApp { client in
            let password = String(repeating: "é", count: 36)
            _ = try await client.registered(email: "multi@example.com", password: password)
            #expect(try await client.login(email: "multi@example.com", password: password).status == .ok)
        }
    }

    @Test func roleOnRegisterNeverCreatesAnAdmin() async throws {
        try await TestServer.withApp { client in
            let response = try await client.postJSON(
                "/api/v1/auth/register", #"{"name":"Mallory","email":"m@example.com","password":"secret123","role":"admin"}"#
            )
            expectError(response, .badRequest)
            #expect(try await client.login(email: "m@example.com").status == .unauthorized)
        }
    }
}
