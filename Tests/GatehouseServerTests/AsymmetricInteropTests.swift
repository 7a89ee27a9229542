import Foundation
import Gatehouse
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import GatehouseServer

/// Runs `body`, which waits on processes or sleeps, on a Dispatch thread rather than one of
/// Swift concurrency's: that pool has one thread per core (two here), and the servers
/// these tests run in-process — and every other test running meanwhile — need them.
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
}

/// Runs a Python program with PyJWT importable (`scripts/with-pyjwt.sh`); its standard
/// output.
func runPyJWT(_ program: String, arguments: [String]) async throws -> String {
    try await blocking { try runPyJWTWaiting(program, arguments: arguments) }
}

private func runPyJWTWaiting(_ program: String, arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = repositoryRoot.appendingPathComponent("scripts/with-pyjwt.sh")
    process.arguments = ["python3", "-c", program] + arguments
    let output = Pipe(), errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    let problems = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    try #require(process.terminationStatus == 0, "python failed: \(String(decoding: problems, as: UTF8.self))")
    return String(decoding: data, as: UTF8.self)
}

/// The checkout this test target was built from.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// PyJWT against a live Gatehouse (SPEC.md §3.7): its `PyJWKClient` fetches the JWKS and
/// verifies Gatehouse's tokens for each algorithm; tokens PyJWT signs with the same
/// private key verify in Gatehouse; tokens it signs with another key of the same type
/// under Gatehouse's `kid` are refused. For ES256, PyJWT (OpenSSL) leaves `s` high half
/// the time: PyJWT accepts both twins, Gatehouse only the low one.
@Suite struct AsymmetricInteropTests {
    static let program = #"""
        import base64, json, sys, jwt
        url, token, alg, audience, pem, other_pem = sys.argv[1:7]
        signing = jwt.PyJWKClient(url).get_signing_key_from_jwt(token)
        claims = jwt.decode(token, signing.key, algorithms=[alg], issuer="gatehouse", audience=audience)
        own = jwt.encode(claims, pem, algorithm=alg, headers={"kid": signing.key_id})
        other = jwt.encode(claims, other_pem, algorithm=alg, headers={"kid": signing.key_id})
        result = {"sub": claims["sub"], "kid": signing.key_id, "own": own, "other": other}
        if alg == "ES256":
            n = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
            b64d = lambda s: base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
            b64e = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
            header, payload, signature = own.split(".")
            raw = b64d(signature)
            r, s = raw[:32], int.from_bytes(raw[32:], "big")
            for name, value in (("low", min(s, n - s)), ("high", max(s, n - s))):
                twin = header + "." + payload + "." + b64e(r + value.to_bytes(32, "big"))
                jwt.decode(twin, signing.key, algorithms=[alg], issuer="gatehouse", audience=audience)
                result[name] = twin
        print(json.dumps(result))
        """#

    @Test(arguments: TestKeys.asymmetric)
    func pyJWTVerifiesFromTheJWKSAndSignsWhatGatehouseAccepts(algorithm: JWTAlgorithm) async throws {
        let key = TestKeys.key(algorithm)
        let stranger = try JWTPrivateKey.generate(algorithm)
        let settings = TestServer.settings(audience: "orders-api", signingKey: key)
        try await TestServer.withApp(settings, clock: nil, setup: .live) { client in
            let port = try #require(client.port)
            let (auth, _) = try await client.registered(email: "interop@example.com")
            let output = try await runPyJWT(Self.program, arguments: [
                "http://127.0.0.1:\(port)/.well-known/jwks.json", auth.accessToken, algorithm.rawValue, "orders-api",
                key.pemRepresentation, stranger.pemRepresentation,
            ])
            let result = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: String])
            #expect(result["kid"] == key.publicKey.kid)
            #expect(result["sub"] == auth.user.id)
            if algorithm != .es256 {
                let own = try await client.get("/api/v1/users/me", bearer: try #require(result["own"]))
                #expect(own.status == .ok, "\(own.text)")
            }
            expectError(try await client.get("/api/v1/users/me", bearer: try #require(result["other"])), .unauthorized, "Invalid access token")
            if algorithm == .es256 {
                #expect(try await client.get("/api/v1/users/me", bearer: try #require(result["low"])).status == .ok)
                expectError(try await client.get("/api/v1/users/me", bearer: try #require(result["high"])), .unauthorized, "Invalid access token")
            }
        }
    }
}
