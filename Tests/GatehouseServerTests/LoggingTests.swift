import Foundation
import HTTPTypes
import Gatehouse
import Hummingbird
import HummingbirdTesting
import InMemoryLogging
import Logging
import Testing

@testable import GatehouseServer

@Suite struct LoggingTests {
    /// Nothing secret is ever logged, even at `.trace`: not the password, not its hash,
    /// not a token, not a secret, not an `Authorization` or `Cookie` value.
    @Test func noSecretReachesTheLogAtTrace() async throws {
        let handler = InMemoryLogHandler()
        var logger = Logger(label: "gatehouse.test") { _ in handler }
        logger.logLevel = .trace
        let settings = TestServer.settings()
        let password = "correct-horse-battery"
        let secrets = try await TestServer.withApp(settings, logger: logger, logLevel: .trace) { client in
            let registered = try await client.register(email: "logs@example.com", password: password)
            let cookie = try #require(registered.refreshCookie)
            let access = try registered.decode(AuthResponse.self).accessToken
            _ = try await client.get("/api/v1/users/me", bearer: access)
            let login = try await client.login(email: "logs@example.com", password: password)
            _ = try await client.login(email: "logs@example.com", password: "wrong-\(password)")
            let rotated = try await client.refresh(cookie: cookie)
            _ = try await client.refresh(cookie: cookie)
            let newAccess = try rotated.decode(AccessTokenResponse.self).accessToken
            _ = try await client.logout(bearer: newAccess)
            return [
                password, "wrong-\(password)", cookie, access, newAccess, settings.accessSecret, settings.refreshSecret,
                try #require(login.refreshCookie), try #require(rotated.refreshCookie),
                try login.decode(AuthResponse.self).accessToken,
            ]
        }
        let entries = handler.entries
        #expect(entries.count > 0)
        let logText = entries.map { entry in
            "\(entry.message) \(entry.metadata.map { "\($0.key)=\($0.value)" }.joined(separator: " "))"
        }.joined(separator: "\n")
        for secret in secrets {
            #expect(!logText.contains(secret))
            // Not even a recognisable part of a token (its signature).
            if let signature = secret.split(separator: ".").last, secret.contains(".") {
                #expect(!logText.contains(signature))
            }
        }
        #expect(!logText.contains("$2b$"), "a bcrypt hash was logged")
        #expect(!logText.lowercased().contains("bearer "))
        #expect(!logText.contains("refreshToken="))
    }
}

/// swift-log's advice to libraries: routine successes at `debug`, warnings only for what
/// an operator must act on.
@Suite struct LogLevelTests {
    @Test func routineSuccessesAreDebug() async throws {
        let handler = InMemoryLogHandler()
        var logger = Logger(label: "gatehouse.test") { _ in handler }
        logger.logLevel = .trace
        try await TestServer.withApp(logger: logger, logLevel: .trace) { client in
            let (auth, cookie) = try await client.registered(email: "levels@example.com")
            _ = try await client.login(email: "levels@example.com")
            let rotated = try await client.refresh(cookie: cookie)
            #expect(rotated.status == .ok)
            #expect(try await client.logout(bearer: auth.accessToken, scope: "others").status == .noContent)
        }
        func level(of message: String) -> Logger.Level? {
            handler.entries.first { $0.message.description == message }?.level
        }
        #expect(level(of: "User registered") == .debug)
        #expect(level(of: "Login succeeded") == .debug)
        #expect(level(of: "Logged out") == .debug)
        #expect(!handler.entries.contains { $0.level >= .warning })
    }

    @Test func reuseDetectionIsAWarning() async throws {
        let handler = InMemoryLogHandler()
        var logger = Logger(label: "gatehouse.test") { _ in handler }
        logger.logLevel = .trace
        let clock = TestClock()
        try await TestServer.withApp(clock: clock, logger: logger, logLevel: .trace) { client in
            let (_, cookie) = try await client.registered(email: "reuse@example.com")
            #expect(try await client.refresh(cookie: cookie).status == .ok)
            clock.advance(60)
            expectError(try await client.refresh(cookie: cookie), .unauthorized)
        }
        #expect(handler.entries.contains { $0.level == .warning && $0.message.description.hasPrefix("Refresh token reuse detected") })
    }
}
