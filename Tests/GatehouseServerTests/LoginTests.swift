import Foundation
import HTTPTypes
import FluentKit
import Gatehouse
import GatehouseFluent
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing

@testable import GatehouseServer

@Suite struct LoginTests {
    @Test func loginReturnsTokenUserAndCookie() async throws {
        try await TestServer.withApp { client in
            let registered = try await client.registered(email: "dave@example.com")
            let response = try await client.login(email: "  DAVE@example.com ")
            #expect(response.status == .ok)
            let body = try response.decode(AuthResponse.self)
            #expect(body.user == registered.auth.user)
            #expect(response.headers[.cacheControl] == "no-store")
            #expect(response.refreshCookie != nil)
            #expect(response.headers[.setCookie]?.contains("; Path=/api/v1/auth/refresh; Max-Age=604800; HttpOnly; SameSite=Strict") == true)
        }
    }

    @Test func wrongPasswordAndUnknownEmailGetTheSameAnswer() async throws {
        try await TestServer.withApp { client in
            _ = try await client.registered(email: "erin@example.com")
            let wrong = try await client.login(email: "erin@example.com", password: "not-the-password")
            let unknown = try await client.login(email: "nobody@example.com", password: "not-the-password")
            expectError(wrong, .unauthorized, "Invalid email or password")
            expectError(unknown, .unauthorized, "Invalid email or password")
            #expect(wrong.text == unknown.text)
            #expect(wrong.headers[.setCookie] == nil)
        }
    }

    @Test func passwordPastSeventyTwoBytesNeverMatches() async throws {
        try await TestServer.withApp { client in
            let password = String(repeating: "p", count: 72)
            _ = try await client.registered(email: "long@example.com", password: password)
            #expect(try await client.login(email: "long@example.com", password: password).status == .ok)
            // bcrypt would accept this (it reads 72 bytes); Gatehouse must not.
            expectError(try await client.login(email: "long@example.com", password: password + "extra"), .unauthorized)
            expectError(try await client.login(email: "long@example.com", password: password + "\u{0}"), .unauthorized)
        }
    }

    static let invalidBodies: [(String, String)] = [
        (#"{"password":"secret123"}"#, "email"),
        (#"{"email":"a@example.com"}"#, "password"),
        (#"{"email":1,"password":"secret123"}"#, "email"),
        (#"{"email":"a@example.com","password":true}"#, "password"),
        (#"{"email":"a@example.com","password":"secret123","remember":true}"#, "remember"),
    ]

    @Test(arguments: invalidBodies)
    func loginChecksOnlyThatFieldsAreStrings(body: String, field: String) async throws {
        try await TestServer.withApp { client in
            let response = try await client.postJSON("/api/v1/auth/login", body)
            expectError(response, .badRequest)
            #expect(response.error?.errors?.first?.field == field)
        }
    }

    @Test func loginDoesNotValidateEmailSyntax() async throws {
        try await TestServer.withApp { client in
            let response = try await client.postJSON("/api/v1/auth/login", #"{"email":"not an email","password":"x"}"#)
            expectError(response, .unauthorized, "Invalid email or password")
        }
    }

    /// An unknown email must cost exactly one bcrypt comparison, like a known one, so
    /// timing does not tell them apart.
    @Test func unknownEmailCostsOneComparison() async throws {
        let database = TemporaryDatabase()
        defer { database.remove() }
        let logger = Logger(label: "test")
        let hasher = CountingHasher(BcryptPasswordHasher(cost: 4))
        let (service, databases) = try await makeService(database, hasher: hasher)
        let registration = try Registration.validate(name: "Frank", email: "frank@example.com", password: "secret123")
        _ = try await service.register(registration, client: ClientInfo(), logger: logger)

        hasher.reset()
        await #expect(throws: AppError.self) {
            try await service.login(email: "nobody@example.com", password: "secret123", client: ClientInfo(), logger: logger)
        }
        #expect(hasher.verifications == [hasher.dummyHash])

        hasher.reset()
        await #expect(throws: AppError.self) {
            try await service.login(email: "frank@example.com", password: "wrong-password", client: ClientInfo(), logger: logger)
        }
        #expect(hasher.verifications.count == 1)
        #expect(hasher.verifications != [hasher.dummyHash])
        await databases.shutdownAsync()
    }
}

/// Records every hash a verification was run against.
final class CountingHasher: PasswordHasher {
    let base: BcryptPasswordHasher
    private let log = Mutex<[String]>([])

    init(_ base: BcryptPasswordHasher) { self.base = base }

    var dummyHash: String { base.dummyHash }
    func dummyHash(like hash: String) -> String { base.dummyHash(like: hash) }
    func needsRehash(_ hash: String) -> Bool { base.needsRehash(hash) }
    var verifications: [String] { log.withLock { $0 } }
    func reset() { log.withLock { $0 = [] } }

    func hash(_ password: String) async throws -> String { try await base.hash(password) }

    func verify(_ password: String, against hash: String) async throws -> Bool {
        log.withLock { $0.append(hash) }
        return try await base.verify(password, against: hash)
    }
}
