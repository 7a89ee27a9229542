import Foundation
import Testing

@testable import Gatehouse

/// Tokens made by an independent implementation (PyJWT) verify here, and tokens made
/// here verify there; PyJWT's `none` and HS384 tokens are refused. PyJWT comes from
/// `scripts/with-pyjwt.sh`, which installs it from PyPI on first use if `python3`
/// cannot import it.
@Suite struct InteropTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/with-pyjwt.sh")

    /// Runs a Python program with PyJWT importable; returns its standard output.
    static func python(_ program: String, arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = script
        process.arguments = ["python3", "-c", program] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        try #require(process.terminationStatus == 0, "python failed: \(text)")
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static let sign = """
        import json, sys, jwt
        secret, algorithm, claims = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
        print(jwt.encode(claims, None if algorithm == "none" else secret, algorithm=algorithm))
        """

    @Test func pyJWTAccessAndRefreshTokensVerify() async throws {
        let fixture = await Fixture()
        let access = try Self.python(Self.sign, arguments: [fixture.configuration.accessSecret, "HS256", fixture.accessPayload()])
        #expect(try await fixture.verifier.verifyAccess(access).sub == Fixture.userID)

        let refreshClaims = #"{"sub":"\#(Fixture.userID)","version":3,"sid":"\#(Fixture.sessionID)","gen":4,"iat":\#(Fixture.now),"exp":\#(Fixture.now + 600),"iss":"gatehouse","jti":"abc"}"#
        let refresh = try Self.python(Self.sign, arguments: [fixture.configuration.refreshSecret, "HS256", refreshClaims])
        #expect(try await fixture.verifier.verifyRefresh(refresh).gen == 4)
    }

    @Test(arguments: ["none", "HS384", "HS512"])
    func pyJWTTokensOfOtherAlgorithmsAreRefused(algorithm: String) async throws {
        let fixture = await Fixture()
        let token = try Self.python(Self.sign, arguments: [fixture.configuration.accessSecret, algorithm, fixture.accessPayload()])
        await #expect(throws: TokenError.invalid) { try await fixture.verifier.verifyAccess(token) }
    }

    @Test func pyJWTTokensWithAWrongClaimAreRefused() async throws {
        let fixture = await Fixture()
        for overrides in [["iss": "\"evil\""], ["role": "\"root\""], ["exp": "\(Fixture.now - 60)"]] {
            let token = try Self.python(Self.sign, arguments: [fixture.configuration.accessSecret, "HS256", fixture.accessPayload(overrides)])
            await #expect(throws: TokenError.self) { try await fixture.verifier.verifyAccess(token) }
        }
    }

    @Test func gatehouseTokensVerifyWithPyJWT() async throws {
        let fixture = await Fixture()
        let token = try await fixture.access()
        let decoded = try Self.python("""
            import json, sys, jwt
            claims = jwt.decode(sys.argv[1], sys.argv[2], algorithms=["HS256"], issuer="gatehouse",
                                options={"verify_exp": False, "verify_iat": False})
            print(json.dumps(claims, sort_keys=True))
            """, arguments: [token, fixture.configuration.accessSecret])
        #expect(decoded.contains(#""sub": "\#(Fixture.userID)""#))
        #expect(decoded.contains(#""role": "user""#))
    }
}
