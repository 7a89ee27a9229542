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
