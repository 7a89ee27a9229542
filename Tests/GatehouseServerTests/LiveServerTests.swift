import FluentKit
import Foundation
import Gatehouse
import GatehouseFluent
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

@testable import GatehouseServer

/// The same application over a real socket: HTTP parsing, the peer address, body limits.
@Suite struct LiveServerTests {
    @Test func seedFlowOverARealSocketRecordsTheDevice() async throws {
        let database = TemporaryDatabase()
        defer { database.remove() }
        let sessionID = try await TestServer.withApp(database: database, setup: .live) { client in
            let registered = try await client.postJSON(
                "/api/v1/auth/register", #"{"name":"Live","email":"live@example.com","password":"secret123"}"#,
                headers: [.userAgent: "GatehouseTest/1.0"]
            )
            #expect(registered.status == .created)
            let auth = try registered.decode(AuthResponse.self)
            let cookie = try #require(registered.refreshCookie)
            #expect(try await client.get("/api/v1/users/me", bearer: auth.accessToken).status == .ok)
            #expect(try await client.refresh(cookie: cookie).status == .ok)

            let big = ByteBuffer(repeating: UInt8(ascii: "a"), count: 10 * 1024 * 1024)
            let tooLarge = try await client.executeRequest(
                uri: "/api/v1/auth/login", method: .post, headers: [.contentType: "application/json"], body: big
            )
            expectError(tooLarge, .contentTooLarge, "Request body too large")
            expectError(try await client.get("/nowhere"), .notFound, "Not found")
            return try #require(try payload(of: auth.accessToken)["sid"] as? String)
        }

        // What the session row recorded about the device, and the configured cost.
        let databases = try await DatabaseSetup.openMigrated(database.location, poolSize: 1, logger: Logger(label: "test"))
        let provider = FluentDatabaseProvider(databases: databases)
        let session = try await FluentSessionRepository(provider: provider)
            .find(id: try #require(UUID(uuidString: sessionID)), logger: Logger(label: "test"))
        let user = try await FluentUserRepository(provider: provider).find(email: "live@example.com", logger: Logger(label: "test"))
        await databases.shutdownAsync()
        #expect(session?.userAgent == "GatehouseTest/1.0")
        #expect(session?.ip == "127.0.0.1")
        #expect(session?.generation == 1)
        #expect(session?.revokedAt == nil)
        #expect(user?.passwordHash.hasPrefix("$2b$04$") == true)
        #expect(user?.tokenVersion == 0)
    }
}
