import Foundation
import Gatehouse
import Testing

@testable import GatehouseServer

/// `Examples/Downstream`, a service built on GatehouseVerifier alone, run as a process
/// beside a real `gatehouse serve`: it verifies Gatehouse's tokens from the JWKS, follows
/// a key rotation while it runs, and keeps verifying with the keys it holds while
/// Gatehouse is down (SPEC.md §3.7).
@Suite struct DownstreamExampleTests {
    static func orders(_ port: Int, _ token: String?) -> HTTPAnswer? {
        exchange(port: port, "GET", "/orders/mine", headers: token.map { ["Authorization": "Bearer \($0)"] } ?? [:])
    }

    @Test func theDownstreamServiceVerifiesAcrossARotationAndAnOutage() async throws {
        try await blocking {
            let database = TemporaryDatabase()
            defer { database.remove() }
            let keys = KeyRotationTests.KeyFolder()
            defer { try? FileManager.default.removeItem(at: keys.directory) }
            let oldKid = try keys.generate("old", algorithm: "EdDSA")
            let newKid = try keys.generate("new", algorithm: "EdDSA")
            var environment = FleetTests.environment(database, access: SecretGenerator.hex(bytes: 32), refresh: SecretGenerator.hex(bytes: 32))
            environment["JWT_ALGORITHM"] = "EdDSA"
            environment["JWT_PRIVATE_KEY_FILE"] = keys.path("old")
            let gatehousePort = try freePort()

            var gatehouse = try ServerProcess(environment: environment, port: gatehousePort)
            let downstream = try ServerProcess(
                environment: ["GATEHOUSE_JWKS_URL": "http://127.0.0.1:\(gatehousePort)/.well-known/jwks.json", "JWKS_MIN_REFETCH_SECONDS": "0.5"],
                executable: "DownstreamExample"
            )
            defer { downstream.stop() }

            let registered = try #require(exchange(port: gatehousePort, "POST", "/api/v1/auth/register", json: FleetTests.alice))
            let oldToken = try #require(registered.string("accessToken"))
            let cookie = try #require(registered.refreshCookie)
            let userID = try #require(try payload(of: oldToken)["sub"] as? String)

            let mine = try #require(Self.orders(downstream.port, oldToken))
            #expect(mine.status == 200, "\(mine.body)\n\(downstream.logText)")
            #expect(mine.string("customer") == userID)
            #expect(Self.orders(downstream.port, nil)?.string("message") == "Authentication required")
            #expect(Self.orders(downstream.port, nil)?.headers["www-authenticate"] == "Bearer")
            #expect(Self.orders(downstream.port, oldToken + "x")?.string("message") == "Invalid access token")
            // The service's role policy: a user is not an admin.
            #expect(exchange(port: downstream.port, "GET", "/orders/report", headers: ["Authorization": "Bearer \(oldToken)"])?.status == 403)

            // Rotation while the service runs: publish the next key, then switch to it.
            gatehouse.stop()
            environment["JWT_PREVIOUS_PUBLIC_KEY_FILES"] = keys.path("new.pub")
            gatehouse = try ServerProcess(environment: environment, port: gatehousePort)
            gatehouse.stop()
            environment["JWT_PRIVATE_KEY_FILE"] = keys.path("new")
            environment["JWT_PREVIOUS_PUBLIC_KEY_FILES"] = keys.path("old.pub")
            gatehouse = try ServerProcess(environment: environment, port: gatehousePort)
            let refreshed = try #require(exchange(port: gatehousePort, "POST", "/api/v1/auth/refresh", headers: ["Cookie": "refreshToken=\(cookie)"]))
            let newToken = try #require(refreshed.string("accessToken"))
            #expect(try KeyRotationTests.kid(of: newToken) == newKid)
            #expect(try KeyRotationTests.kid(of: oldToken) == oldKid)
            // The service holds the old key set (cached for 300 s); the new kid makes it ask,
            // once the refetch interval (0.5 s here, 30 s by default) since its last fetch is over.
            usleep(600_000)
            #expect(Self.orders(downstream.port, newToken)?.status == 200, "\(downstream.logText)")
            #expect(Self.orders(downstream.port, oldToken)?.status == 200)

            // Gatehouse goes down: the service keeps verifying with the keys it holds.
            gatehouse.stop()
            #expect(Self.orders(downstream.port, newToken)?.status == 200)
            #expect(Self.orders(downstream.port, oldToken)?.status == 200)
            let stranger = try JWTPrivateKey.generate(.edDSA)
            let forged = try AsymmetricHostileTokenTests.signed(
                header: #"{"alg":"EdDSA","kid":"\#(stranger.publicKey.kid)"}"#,
                payload: String(decoding: try JSONSerialization.data(withJSONObject: try payload(of: newToken)), as: UTF8.self), key: stranger
            )
            #expect(Self.orders(downstream.port, forged)?.string("message") == "Invalid access token")
            #expect(Self.orders(downstream.port, newToken)?.status == 200)
        }
    }
}
