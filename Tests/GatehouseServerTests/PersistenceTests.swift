import Foundation
import HTTPTypes
import Gatehouse
import Hummingbird
import HummingbirdTesting
import Testing

@testable import GatehouseServer

@Suite struct PersistenceTests {
    /// Users and sessions survive a restart on the same file with the same secrets.
    @Test func usersAndSessionsSurviveARestart() async throws {
        let database = TemporaryDatabase()
        defer { database.remove() }
        let settings = TestServer.settings()
        let (user, cookie) = try await TestServer.withApp(settings, database: database) { client in
            let (auth, cookie) = try await client.registered(email: "persist@example.com")
            return (auth.user, cookie)
        }
        try await TestServer.withApp(settings, database: database) { client in
            let login = try await client.login(email: "persist@example.com")
            #expect(login.status == .ok)
            #expect(try login.decode(AuthResponse.self).user == user)
            let refreshed = try await client.refresh(cookie: cookie)
            #expect(refreshed.status == .ok)
            expectError(try await client.register(email: "persist@example.com"), .conflict)
        }
    }
}
