import FluentKit
import Foundation
import HTTPTypes
import Gatehouse
import GatehouseFluent
import Hummingbird
import HummingbirdTesting
import InMemoryLogging
import Logging
import Testing

@testable import GatehouseServer

@Suite struct InternalErrorTests {
    /// When the store fails, the client gets a generic 500 in the error shape; the
    /// detail goes to the log only.
    @Test func aServerFailureShowsNoInternalDetail() async throws {
        let database = TemporaryDatabase()
        defer { database.remove() }
        let handler = InMemoryLogHandler()
        let logger = Logger(label: "test") { _ in handler }
        let settings = TestServer.settings()
        let (service, databases) = try await makeService(database, settings: settings, logger: logger)
        let router = Router(context: GatehouseContext.self)
        router.add(middleware: GatehouseErrorMiddleware())
        AuthController<GatehouseContext>(service: service, configuration: settings).addRoutes(to: router.group("api/v1"))
        let app = Application(router: router, logger: logger)
        // The database goes away under the running application.
        await databases.shutdownAsync()

        try await app.test(.router) { client in
            let response = try await client.register(email: "down@example.com")
            expectError(response, .internalServerError, "Internal server error")
            #expect(response.text == #"{"message":"Internal server error","status":"error"}"#)
            let login = try await client.login(email: "down@example.com")
            expectError(login, .internalServerError, "Internal server error")
        }
        #expect(handler.entries.contains { $0.message.description == "Unhandled error" && $0.level == .error })
    }
}
