import Foundation
import Gatehouse
import Testing

@testable import GatehouseServer

/// The README's rotation runbooks (SPEC.md §3.7), walked through with real `gatehouse`
/// processes on one database, restarted between steps as an operator would: keys made
/// by `gatehouse keys`, tokens from the old key or secret working across the switch,
/// and no session lost.
@Suite struct KeyRotationTests {
    /// A folder of key files made by the CLI.
    struct KeyFolder {
        let directory = makeTemporaryDirectory()

        /// `gatehouse keys generate --algorithm ALG --out NAME.pem`, and
        /// `gatehouse keys public NAME.pem > NAME.pub.pem`; returns the kid.
        func generate(_ name: String, algorithm: String) throws -> String {
            let generated = try runGatehouse(["keys", "generate", "--algorithm", algorithm, "--out", path(name)])
            try #require(generated.status == 0, "\(generated.stderr)")
            let publicKey = try runGatehouse(["keys", "public", path(name)])
            try #require(publicKey.status == 0, "\(publicKey.stderr)")
            try publicKey.stdout.write(toFile: path(name + ".pub"), atomically: true, encoding: .utf8)
            return String(try #require(publicKey.stderr.split(separator: " ").last).trimmingCharacters(in: .whitespacesAndNewlines))
        }

        func path(_ name: String) -> String { directory.appendingPathComponent(name + ".pem").path }
    }

    static func kids(port: Int) throws -> [String] {
        let answer = try #require(exchange(port: port, "GET", "/.well-known/jwks.json"))
        #expect(answer.status == 200)
        #expect(answer.headers["cache-control"] == "public, max-age=300")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: [[String: String]]])
        return try #require(object["keys"]).map { $0["kid"] ?? "" }
    }

    static func kid(of token: String) throws -> String? {
        var segment = String(try #require(token.split(separator: ".").first))
        let header = try #require(segment.withUTF8 { Base64URL.decode($0) })
        return (try JSONSerialization.jsonObject(with: Data(header)) as? [String: String])?["kid"]
    }

    static func me(_ port: Int, _ token: String) -> HTTPAnswer? {
        exchange(port: port, "GET", "/api/v1/users/me", headers: ["Authorization": "Bearer \(token)"])
    }

    static func refresh(_ port: Int, _ cookie: String) throws -> (access: String, cookie: String) {
        let answer = try #require(exchange(port: port, "POST", "/api/v1/auth/refresh", headers: ["Cookie": "refreshToken=\(cookie)"]))
        try #require(answer.status == 200, "\(answer.body)")
        return (try #require(answer.string("accessToken")), try #require(answer.refreshCookie))
    }

    @Test(arguments: ["EdDSA", "ES256", "RS256"])
    func theKeyRunbookRotatesWithoutLoggingAnyoneOut(algorithm: String) async throws {
        try await blocking {
            let database = TemporaryDatabase()
            defer { database.remove() }
            let keys = KeyFolder()
            defer { try? FileManager.default.removeItem(at: keys.directory) }
            var environment = FleetTests.environment(database, access: SecretGenerator.hex(bytes: 32), refresh: SecretGenerator.hex(bytes: 32))
            environment["JWT_ALGORITHM"] = algorithm

            // 0. In service: the old key.
            let oldKid = try keys.generate("old", algorithm: algorithm)
            environment["JWT_PRIVATE_KEY_FILE"] = keys.path("old")
            let before = try ServerProcess(environment: environment)
            let registered = try #require(exchange(port: before.port, "POST", "/api/v1/auth/register", json: FleetTests.alice))
            try #require(registered.status == 201, "\(registered.body)")
            let oldToken = try #require(registered.string("accessToken"))
            let oldCookie = try #require(registered.refreshCookie)
            #expect(try Self.kid(of: oldToken) == oldKid)
            #expect(try Self.kids(port: before.port) == [oldKid])
            before.stop()

            // 1. Generate the next key and publish it: verifiers learn it before it signs.
            let newKid = try keys.generate("new", algorithm: algorithm)
            environment["JWT_PREVIOUS_PUBLIC_KEY_FILES"] = keys.path("new.pub")
            let publishing = try ServerProcess(environment: environment)
            defer { publishing.stop() }
            #expect(try Self.kids(port: publishing.port) == [oldKid, newKid])
            #expect(Self.me(publishing.port, oldToken)?.status == 200)

            // 2. Switch, one instance at a time: the new key signs, the old one is previous.
            environment["JWT_PRIVATE_KEY_FILE"] = keys.path("new")
            environment["JWT_PREVIOUS_PUBLIC_KEY_FILES"] = keys.path("old.pub")
            let switched = try ServerProcess(environment: environment)
            #expect(try Self.kids(port: switched.port) == [newKid, oldKid])
            #expect(Self.me(switched.port, oldToken)?.status == 200, "a token of the old key still works")
            let (newToken, newCookie) = try Self.refresh(switched.port, oldCookie)
            #expect(try Self.kid(of: newToken) == newKid)
            #expect(Self.me(switched.port, newToken)?.status == 200)
            // Mid-rollout, the instance not yet switched accepts what the switched one signs.
            #expect(Self.me(publishing.port, newToken)?.status == 200)
            switched.stop()

            // 3. Retire the old key once its last token has expired (JWT_ACCESS_TTL + skew).
            environment["JWT_PREVIOUS_PUBLIC_KEY_FILES"] = nil
            let retired = try ServerProcess(environment: environment)
            defer { retired.stop() }
            #expect(try Self.kids(port: retired.port) == [newKid])
            #expect(Self.me(retired.port, newToken)?.status == 200)
            #expect(Self.me(retired.port, oldToken)?.string("message") == "Invalid access token")
            // The session lives on: refresh tokens never depended on the key.
            let (latest, _) = try Self.refresh(retired.port, newCookie)
            #expect(Self.me(retired.port, latest)?.status == 200)
        }
    }

    @Test func theSecretRunbookRotatesWithoutLoggingAnyoneOut() async throws {
        try await blocking {
            let database = TemporaryDatabase()
            defer { database.remove() }
            let (oldAccess, oldRefresh) = (SecretGenerator.hex(bytes: 32), SecretGenerator.hex(bytes: 32))
            let (newAccess, newRefresh) = (SecretGenerator.hex(bytes: 32), SecretGenerator.hex(bytes: 32))
            var environment = FleetTests.environment(database, access: oldAccess, refresh: oldRefresh)

            let before = try ServerProcess(environment: environment)
            let registered = try #require(exchange(port: before.port, "POST", "/api/v1/auth/register", json: FleetTests.alice))
            let oldToken = try #require(registered.string("accessToken"))
            let oldCookie = try #require(registered.refreshCookie)
            #expect(try Self.kids(port: before.port) == [])
            before.stop()

            // New secrets sign; the old ones are accepted for verification only.
            environment.merge(
                ["JWT_ACCESS_SECRET": newAccess, "JWT_REFRESH_SECRET": newRefresh, "JWT_ACCESS_SECRET_PREVIOUS": oldAccess,
                 "JWT_REFRESH_SECRET_PREVIOUS": oldRefresh]
            ) { $1 }
            let switched = try ServerProcess(environment: environment)
            #expect(Self.me(switched.port, oldToken)?.status == 200)
            let (newToken, newCookie) = try Self.refresh(switched.port, oldCookie)
            switched.stop()

            // Retired: only what the new secrets signed.
            environment["JWT_ACCESS_SECRET_PREVIOUS"] = nil
            environment["JWT_REFRESH_SECRET_PREVIOUS"] = nil
            let retired = try ServerProcess(environment: environment)
            defer { retired.stop() }
            #expect(Self.me(retired.port, newToken)?.status == 200)
            #expect(Self.me(retired.port, oldToken)?.string("message") == "Invalid access token")
            _ = try Self.refresh(retired.port, newCookie)
        }
    }

    /// HS256 to EdDSA: access tokens of the secret are refused at once (no secret is
    /// accepted under an asymmetric algorithm), and the client's refresh — HS256 as
    /// before — gets it an EdDSA token: the session survives.
    @Test func movingFromHS256ToEdDSAKeepsEverySession() async throws {
        try await blocking {
            let database = TemporaryDatabase()
            defer { database.remove() }
            let keys = KeyFolder()
            defer { try? FileManager.default.removeItem(at: keys.directory) }
            var environment = FleetTests.environment(database, access: SecretGenerator.hex(bytes: 32), refresh: SecretGenerator.hex(bytes: 32))
            let before = try ServerProcess(environment: environment)
            let registered = try #require(exchange(port: before.port, "POST", "/api/v1/auth/register", json: FleetTests.alice))
            let hs256Token = try #require(registered.string("accessToken"))
            let cookie = try #require(registered.refreshCookie)
            before.stop()

            let kid = try keys.generate("signing", algorithm: "EdDSA")
            environment["JWT_ALGORITHM"] = "EdDSA"
            environment["JWT_PRIVATE_KEY_FILE"] = keys.path("signing")
            let after = try ServerProcess(environment: environment)
            defer { after.stop() }
            #expect(Self.me(after.port, hs256Token)?.string("message") == "Invalid access token")
            let (token, _) = try Self.refresh(after.port, cookie)
            #expect(try Self.kid(of: token) == kid)
            #expect(Self.me(after.port, token)?.status == 200)
        }
    }
}
