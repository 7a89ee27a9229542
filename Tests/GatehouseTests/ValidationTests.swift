import Foundation
import HTTPTypes
import NIOPosix
import Testing

@testable import Gatehouse

@Suite struct ValidationTests {
    @Test(arguments: [
        ("alice@example.com", "alice@example.com"),
        ("  Alice@Example.COM\n", "alice@example.com"),
        ("a.b+tag@sub.example.co.uk", "a.b+tag@sub.example.co.uk"),
        ("o'brien@example.ie", "o'brien@example.ie"),
    ])
    func validEmailsNormalise(raw: String, normalised: String) {
        #expect(EmailAddress.normalize(raw) == normalised)
    }

    @Test(arguments: [
        "", "plain", "@example.com", "a@", "a@b", "a@@example.com", "a b@example.com", ".a@example.com",
        "a.@example.com", "a..b@example.com", "a@-example.com", "a@example-.com", "a@example.c", "a@1.2.3.4",
        "ä@example.com", "a@exämple.com", "a\u{0}@example.com", "a\u{7}@example.com", "\"a\"@example.com",
        String(repeating: "a", count: 65) + "@example.com",
        String(repeating: "a", count: 60) + "@" + String(repeating: "b", count: 190) + ".com",
    ])
    func invalidEmailsAreRefused(raw: String) {
        #expect(EmailAddress.normalize(raw) == nil)
    }

    @Test func registrationReportsEveryFailingField() {
        #expect(throws: AppError.validation([
            FieldError(field: "name", message: "must be between 2 and 100 characters"),
            FieldError(field: "email", message: "must be a valid email address"),
            FieldError(field: "password", message: "must be between 8 and 72 bytes"),
        ])) {
            try Registration.validate(name: " ", email: "nope", password: "short")
        }
    }

    @Test func validationMessageNamesTheFields() {
        let error = AppError.validation([FieldError(field: "email", message: "must be a valid email address")])
        #expect(error.status == .badRequest)
        #expect(error.message == "email must be a valid email address")
    }

    @Test func namesAreTrimmedAndCountedInCharacters() throws {
        let registration = try Registration.validate(name: "\t Zoë 🚀 \n", email: "z@example.com", password: "password")
        #expect(registration.name == "Zoë 🚀")
        #expect(throws: AppError.self) { try Registration.validate(name: "é", email: "z@example.com", password: "password") }
        _ = try Registration.validate(name: String(repeating: "é", count: 100), email: "z@example.com", password: "password")
        #expect(throws: AppError.self) {
            try Registration.validate(name: String(repeating: "é", count: 101), email: "z@example.com", password: "password")
        }
    }

    static func nameError(_ name: String) -> String? {
        if case .failure(let error) = Registration.checkName(name) { return error.message }
        return nil
    }

    /// `"a"` and 60,000 combining marks is one `Character` and was stored as a 60 KB
    /// "2-character" name. Names are counted in Unicode scalars and bounded in bytes.
    @Test func nameLimitsAreScalarsAndBytes() {
        #expect(Self.nameError("a" + String(repeating: "\u{301}", count: 60_000)) != nil)
        #expect(Self.nameError("a" + String(repeating: "\u{301}", count: 99)) == nil)
        #expect(Self.nameError("a" + String(repeating: "\u{301}", count: 100)) == "must be between 2 and 100 characters")
        // 100 scalars of 4 bytes: 400 bytes, the most.
        #expect(Self.nameError(String(repeating: "𝒜", count: 100)) == nil)
        #expect(Self.nameError(String(repeating: "a", count: 100)) == nil)
        #expect(Self.nameError(String(repeating: "a", count: 101)) == "must be between 2 and 100 characters")
    }

    /// Format characters (category Cf: bidirectional overrides and isolates, zero-width
    /// characters, the BOM, …) make a name display as something else.
    @Test(arguments: [
        "\u{202A}", "\u{202B}", "\u{202C}", "\u{202D}", "\u{202E}", "\u{2066}", "\u{2067}", "\u{2068}", "\u{2069}",
        "\u{200B}", "\u{200D}", "\u{200E}", "\u{200F}", "\u{FEFF}", "\u{061C}", "\u{00AD}", "\u{E0001}",
    ])
    func formatCharactersAreRefused(character: String) {
        #expect(Self.nameError("Mallory " + character + "gnp.exe") == "must not contain invisible or text-direction characters")
    }

    @Test func controlCharactersAndNULAreRefused() {
        #expect(Self.nameError("Al\u{0}ice") == "must not contain control characters")
        #expect(Self.nameError("Al\u{1B}[31mice") == "must not contain control characters")
        #expect(Self.nameError("Al\u{85}ice") == "must not contain control characters")
    }

    /// Stored on every session: cut to 512 bytes where a scalar ends, controls dropped.
    @Test func userAgentsAreBoundedInBytes() throws {
        let huge = ClientInfo(userAgent: String(repeating: "Mozilla/5.0 ", count: 6_200))
        #expect(huge.userAgent?.utf8.count == 512)
        let multibyte = ClientInfo(userAgent: "a" + String(repeating: "€", count: 300))
        let agent = try #require(multibyte.userAgent)
        #expect(agent.utf8.count == 511)
        #expect(agent.unicodeScalars.dropFirst().allSatisfy { $0 == "€" })
        let combining = ClientInfo(userAgent: "a" + String(repeating: "\u{301}", count: 60_000))
        #expect(combining.userAgent.map { $0.utf8.count <= 512 } == true)
        #expect(ClientInfo(userAgent: "curl/8\u{0}\r\nX-Evil: 1").userAgent == "curl/8X-Evil: 1")
        #expect(ClientInfo(userAgent: "\u{0}\u{1}").userAgent == nil)
    }

    @Test func passwordLimitsAreBytes() throws {
        _ = try Registration.validate(name: "Al", email: "a@example.com", password: String(repeating: "€", count: 24)) // 72 bytes
        #expect(throws: AppError.self) {
            try Registration.validate(name: "Al", email: "a@example.com", password: String(repeating: "€", count: 25)) // 75 bytes
        }
        #expect(throws: AppError.self) { try Registration.validate(name: "Al", email: "a@example.com", password: "1234567") }
    }

    @Test func routeTableMatchesParametersAndIgnoresQueries() {
        var table = RouteTable()
        table.add(.get, "/api/v1/users/me")
        table.add(.delete, "/api/v1/sessions/:id")
        table.add(.get, "/api/v1/sessions/:id")
        #expect(table.allowedMethods(for: "/api/v1/users/me?x=1") == [.get])
        #expect(table.allowedMethods(for: "/api/v1/sessions/abc") == [.delete, .get])
        #expect(table.allowedMethods(for: "/api/v1/sessions") == [])
        #expect(table.allowedMethods(for: "/api/v1/users/me/extra") == [])
    }
}

@Suite struct PasswordHasherTests {
    @Test func hashesVerifyAndCarryTheCost() async throws {
        let hasher = BcryptPasswordHasher(cost: 5)
        let hash = try await hasher.hash("correct horse")
        #expect(hash.hasPrefix("$2b$05$"))
        #expect(try await hasher.verify("correct horse", against: hash))
        #expect(try await hasher.verify("wrong horse", against: hash) == false)
    }

    @Test func dummyHashIsWellFormedForTheCostAndMatchesNothing() async throws {
        for cost in [4, 10, 12] {
            let dummy = BcryptPasswordHasher(cost: cost).dummyHash
            #expect(dummy.count == 60)
            #expect(dummy.hasPrefix(String(format: "$2b$%02d$", cost)))
            #expect(dummy.dropFirst(7).allSatisfy { $0.isLetter || $0.isNumber || $0 == "." || $0 == "/" })
        }
        let hasher = BcryptPasswordHasher(cost: 4)
        #expect(try await hasher.verify("", against: hasher.dummyHash) == false)
        #expect(hasher.dummyHash != BcryptPasswordHasher(cost: 4).dummyHash)
    }

    @Test func passwordsRegistrationCouldNotAcceptNeverMatch() async throws {
        let hasher = BcryptPasswordHasher(cost: 4)
        let base = String(repeating: "x", count: 72)
        let hash = try await hasher.hash(base)
        #expect(try await hasher.verify(base, against: hash))
        #expect(try await hasher.verify(base + "y", against: hash) == false)
        let short = try await hasher.hash("abcdefgh")
        #expect(try await hasher.verify("abcdefgh\u{0}tail", against: short) == false)
    }

    @Test func hashingAndVerifyingRunOnTheHashersPool() async throws {
        // With its pool stopped the hasher cannot work at all: proof that bcrypt is
        // dispatched to the pool and never runs inline on the caller's (event-loop) thread.
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        let hasher = BcryptPasswordHasher(cost: 4, threadPool: pool)
        let hash = try await hasher.hash("password1")
        try await pool.shutdownGracefully()
        await #expect(throws: (any Error).self) { try await hasher.hash("password1") }
        await #expect(throws: (any Error).self) { try await hasher.verify("password1", against: hash) }
    }

    @Test func bcryptHasItsOwnPoolApartFromSQLites() {
        // SQLite runs every call on NIOThreadPool.singleton; hashes must not queue there.
        #expect(BcryptPasswordHasher.sharedThreadPool !== NIOThreadPool.singleton)
    }
}
