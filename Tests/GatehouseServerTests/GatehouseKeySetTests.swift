import Foundation
import GatehouseVerifier
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing

@testable import GatehouseJWT

/// A JWKS endpoint in this process whose keys, `Cache-Control` and status a test sets,
/// counting the requests it answers.
final class JWKSServer: Sendable {
    struct State {
        var body = #"{"keys":[]}"#
        var cacheControl = "public, max-age=300"
        var status = HTTPResponse.Status.ok
        /// Send the headers and the first bytes, then nothing for three seconds (six times
        /// the fetch timeout; the server waits for it when it shuts down).
        var stall = false
        var requests = 0
    }

    let state = Mutex(State())

    func serve(_ keys: [JWTPublicKey], cacheControl: String = "public, max-age=300") {
        let body = String(decoding: AccessTokenKeys(publicKeys: keys).jwks, as: UTF8.self)
        state.withLock {
            $0.body = body
            $0.cacheControl = cacheControl
            $0.status = .ok
        }
    }

    var requests: Int { state.withLock { $0.requests } }

    /// Runs `body` with the endpoint's URL.
    func run(_ body: @Sendable @escaping (String) async throws -> Void) async throws {
        let router = Router()
        router.get("jwks") { _, _ -> Response in
            let (text, cacheControl, status, stall) = self.state.withLock { state in
                state.requests += 1
                return (state.body, state.cacheControl, state.status, state.stall)
            }
            if stall {
                return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody { writer in
                    try await writer.write(ByteBuffer(string: #"{"keys":["#))
                    try await Task.sleep(for: .seconds(3))
                    try await writer.finish(nil)
                })
            }
            return Response(
                status: status, headers: [.contentType: "application/json", .cacheControl: cacheControl],
                body: .init(byteBuffer: ByteBuffer(string: text))
            )
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            try await body("http://127.0.0.1:\(try #require(client.port))/jwks")
        }
    }
}

/// The downstream verifier's key set (SPEC.md §3.7): fetched from the JWKS URL, cached per
/// `Cache-Control`, refetched on an unknown `kid` at most once per interval, kept while
/// Gatehouse is unreachable, and as strict as Gatehouse.
@Suite struct GatehouseKeySetTests {
    static func claims(issuer: String = "gatehouse", audience: String? = "orders", iat: Int? = nil, lifetime: Int = 900) -> [UInt8] {
        let now = iat ?? Int(Date().timeIntervalSince1970)
        let aud = audience.map { #","aud":"\#($0)""# } ?? ""
        return Array(#"{"exp":\#(now + lifetime),"iat":\#(now),"iss":"\#(issuer)","role":"user","sid":"9f0b8a2e-7c1d-4e5f-8a9b-1c2d3e4f5a6b","sub":"5b1e6d0c-3f43-4c0e-9c8c-0d8d3c1e9a11","version":0\#(aud)}"#.utf8)
    }

    static func token(_ key: JWTPrivateKey, claims: [UInt8] = claims()) throws -> String {
        try JWS.sign(payload: claims, key: key)
    }

    static func keySet(_ url: String, refetch: Duration = .seconds(30), timeout: Duration = .seconds(2)) -> GatehouseKeySet {
        var configuration = GatehouseKeySet.Configuration(jwksURL: url, audience: "orders")
        configuration.minimumRefetchInterval = refetch
        configuration.fetchTimeout = timeout
        return GatehouseKeySet(configuration: configuration, logger: Logger(label: "test"))
    }

    @Test func verifiesWhatTheKeySetSignsAsStrictlyAsGatehouse() async throws {
        let server = JWKSServer()
        server.serve([TestKeys.edDSA.publicKey, TestKeys.es256.publicKey, TestKeys.rs256.publicKey])
        try await server.run { url in
            let keys = Self.keySet(url)
            for key in [TestKeys.edDSA, TestKeys.es256, TestKeys.rs256] {
                #expect(try await keys.verify(Self.token(key)).sub == "5b1e6d0c-3f43-4c0e-9c8c-0d8d3c1e9a11")
            }
            let key = TestKeys.edDSA
            let refused: [String] = [
                try Self.token(key, claims: Self.claims(issuer: "evil")),
                try Self.token(key, claims: Self.claims(audience: nil)),
                try Self.token(key, claims: Self.claims(audience: "other")),
                try Self.token(key, claims: Self.claims(iat: Int(Date().timeIntervalSince1970) + 600)),
                try Self.token(JWTPrivateKey.generate(.edDSA)),
                HostileTokenTests.sign(header: #"{"alg":"HS256","typ":"JWT"}"#, payload: String(decoding: Self.claims(), as: UTF8.self), secret: key.publicKey.pemRepresentation),
                HostileTokenTests.unsigned(header: #"{"alg":"none","kid":"\#(key.publicKey.kid)"}"#, payload: String(decoding: Self.claims(), as: UTF8.self)),
                "not a token",
            ]
            for token in refused {
                await #expect(throws: TokenError.invalid) { try await keys.verify(token) }
            }
            let expired = try Self.token(key, claims: Self.claims(iat: Int(Date().timeIntervalSince1970) - 1_000))
            await #expect(throws: TokenError.expired) { try await keys.verify(expired) }
            #expect(server.requests == 1, "one fetch served all of that")
        }
    }

    @Test func theKeySetIsKeptAsLongAsCacheControlSays() async throws {
        let server = JWKSServer()
        server.serve([TestKeys.edDSA.publicKey], cacheControl: "public, max-age=1")
        try await server.run { url in
            let keys = Self.keySet(url, refetch: .milliseconds(100))
            let token = try Self.token(TestKeys.edDSA)
            for _ in 0..<5 { _ = try await keys.verify(token) }
            #expect(server.requests == 1)
            try await Task.sleep(for: .milliseconds(1_200))
            // Stale: still verifies at once, and refetches in the background.
            _ = try await keys.verify(token)
            let deadline = ContinuousClock.now + .seconds(5)
            while server.requests < 2, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            #expect(server.requests == 2)
            // no-store: every verification may ask again, but never more often than the interval.
            server.serve([TestKeys.edDSA.publicKey], cacheControl: "no-store")
            try await Task.sleep(for: .milliseconds(1_200))
            _ = try await keys.verify(token)
            while server.requests < 3, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            for _ in 0..<20 { _ = try await keys.verify(token) }
            #expect(server.requests <= 4)
        }
    }

    @Test func aFloodOfUnknownKidsFetchesAtMostOncePerInterval() async throws {
        let server = JWKSServer()
        server.serve([TestKeys.edDSA.publicKey])
        try await server.run { url in
            let keys = Self.keySet(url)
            #expect(await keys.load())
            let stranger = try JWTPrivateKey.generate(.edDSA)
            for index in 0..<200 {
                let header = #"{"alg":"EdDSA","kid":"junk-\#(index)"}"#
                let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Self.claims())
                let signature = try Array(input.utf8).withUnsafeBytes { try stranger.signature(for: $0) }
                await #expect(throws: TokenError.invalid) { try await keys.verify(input + "." + Base64URL.encode(signature)) }
            }
            #expect(server.requests == 1, "the flood was answered from the cached set")
        }
        // The interval the flood ran under is the default, SPEC.md §3.7's 30 seconds.
        let defaults = GatehouseKeySet.Configuration(jwksURL: "http://127.0.0.1:1/.well-known/jwks.json")
        #expect(defaults.minimumRefetchInterval == .seconds(30))
        #expect(defaults.defaultMaxAge == .seconds(300))
    }

    @Test func aNewKeyIsPickedUpByItsKid() async throws {
        let server = JWKSServer()
        let old = TestKeys.edDSA
        let new = try JWTPrivateKey.generate(.edDSA)
        server.serve([old.publicKey])
        try await server.run { url in
            let keys = Self.keySet(url, refetch: .milliseconds(300))
            _ = try await keys.verify(Self.token(old))
            // Gatehouse switched without publishing the key first (the runbook says
            // publish first): the unknown kid makes the verifier ask again.
            server.serve([new.publicKey, old.publicKey])
            try await Task.sleep(for: .milliseconds(350))
            _ = try await keys.verify(Self.token(new))
            #expect(keys.kids == [new.publicKey.kid, old.publicKey.kid])
            _ = try await keys.verify(Self.token(old))
            #expect(server.requests == 2)
        }
    }

    @Test func gatehouseUnreachableKeepsTheCachedKeys() async throws {
        let server = JWKSServer()
        server.serve([TestKeys.es256.publicKey], cacheControl: "max-age=0")
        let holder = Mutex<GatehouseKeySet?>(nil)
        try await server.run { url in
            let keys = Self.keySet(url, refetch: .milliseconds(50))
            #expect(await keys.load())
            holder.withLock { $0 = keys }
            // An error status or a body that is not a key set changes nothing either.
            server.state.withLock { $0.status = .internalServerError }
            try await Task.sleep(for: .milliseconds(60))
            _ = try await keys.verify(Self.token(TestKeys.es256))
            server.state.withLock {
                $0.status = .ok
                $0.body = "<html>maintenance</html>"
            }
            try await Task.sleep(for: .milliseconds(60))
            _ = try await keys.verify(Self.token(TestKeys.es256))
            #expect(keys.kids == [TestKeys.es256.publicKey.kid])
        }
        let keys = try #require(holder.withLock { $0 })
        // The server is gone: verifications go on succeeding while fetches fail.
        let before = keys.fetchCount
        let deadline = ContinuousClock.now + .seconds(20)
        while keys.fetchCount < before + 2, ContinuousClock.now < deadline {
            _ = try await keys.verify(Self.token(TestKeys.es256))
            try await Task.sleep(for: .milliseconds(60))
        }
        #expect(keys.fetchCount >= before + 2, "fetches were tried")
        _ = try await keys.verify(Self.token(TestKeys.es256))
        #expect(keys.kids == [TestKeys.es256.publicKey.kid])
    }

    /// A JWKS that sends its headers and then stalls ends the fetch at the timeout, body
    /// included: requests waiting on it are answered, and the next fetch can start.
    @Test func aStalledKeySetBodyTimesOut() async throws {
        let server = JWKSServer()
        server.serve([TestKeys.edDSA.publicKey])
        server.state.withLock { $0.stall = true }
        try await server.run { url in
            let keys = Self.keySet(url, refetch: .milliseconds(100), timeout: .milliseconds(500))
            let started = ContinuousClock.now
            #expect(await keys.load() == false)
            #expect(ContinuousClock.now - started < .milliseconds(2_500), "the stall lasts 3 s; the fetch gave up before")
            await #expect(throws: TokenError.invalid) { try await keys.verify(Self.token(TestKeys.edDSA)) }
            // Once the key set answers, a later fetch (at most one a second without keys) gets it.
            server.state.withLock { $0.stall = false }
            let deadline = ContinuousClock.now + .seconds(15)
            var verified = false
            while !verified, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
                verified = (try? await keys.verify(Self.token(TestKeys.edDSA))) != nil
            }
            #expect(verified)
        }
    }

    @Test func keysThatAreNotGatehouseKeysAreLeftOut() async throws {
        let server = JWKSServer()
        let good = String(decoding: TestKeys.edDSA.publicKey.jwk, as: UTF8.self)
        let wrongKid = good.replacingOccurrences(of: TestKeys.edDSA.publicKey.kid, with: TestKeys.es256.publicKey.kid)
        let wrongAlg = String(decoding: TestKeys.es256.publicKey.jwk, as: UTF8.self).replacingOccurrences(of: "ES256", with: "RS256")
        server.state.withLock {
            $0.body = #"{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"hmac"},\#(wrongKid),\#(wrongAlg),{"kty":"EC","crv":"P-384","x":"AA","y":"AA"},\#(good)]}"#
        }
        try await server.run { url in
            let keys = Self.keySet(url)
            #expect(await keys.load())
            #expect(keys.kids == [TestKeys.edDSA.publicKey.kid])
            await #expect(throws: TokenError.invalid) { try await keys.verify(Self.token(TestKeys.es256)) }
        }
    }

    @Test func cacheControlIsReadAsRFC9111Says() {
        #expect(JWKSCacheControl.maxAge("public, max-age=300") == 300)
        #expect(JWKSCacheControl.maxAge("max-age=\"60\", public") == 60)
        #expect(JWKSCacheControl.maxAge("MAX-AGE=5") == 5)
        #expect(JWKSCacheControl.maxAge("no-store") == 0)
        #expect(JWKSCacheControl.maxAge("max-age=300, no-cache") == 0)
        #expect(JWKSCacheControl.maxAge("public") == nil)
        #expect(JWKSCacheControl.maxAge("max-age=-1") == nil)
        #expect(JWKSCacheControl.maxAge("max-age=99999999999999999999") == nil)
        #expect(JWKSCacheControl.maxAge("") == nil)
    }

    /// Tokens PyJWT signs with Gatehouse's private key verify downstream too; ES256 only
    /// with a low `s`, as in Gatehouse.
    @Test(arguments: TestKeys.asymmetric)
    func pyJWTSignedTokensVerifyDownstream(algorithm: JWTAlgorithm) async throws {
        let key = TestKeys.key(algorithm)
        let server = JWKSServer()
        server.serve([key.publicKey])
        let program = #"""
            import base64, json, sys, jwt
            alg, pem, kid, claims = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
            token = jwt.encode(claims, pem, algorithm=alg, headers={"kid": kid})
            out = {"token": token}
            if alg == "ES256":
                n = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
                h, p, s = token.split(".")
                raw = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
                v = int.from_bytes(raw[32:], "big")
                enc = lambda value: h + "." + p + "." + base64.urlsafe_b64encode(raw[:32] + value.to_bytes(32, "big")).rstrip(b"=").decode()
                out["low"], out["high"] = enc(min(v, n - v)), enc(max(v, n - v))
            print(json.dumps(out))
            """#
        let output = try await runPyJWT(program, arguments: [algorithm.rawValue, key.pemRepresentation, key.publicKey.kid, String(decoding: Self.claims(), as: UTF8.self)])
        let tokens = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: String])
        try await server.run { url in
            let keys = Self.keySet(url)
            let token = try #require(tokens["token"])
            if algorithm == .es256 {
                _ = try await keys.verify(try #require(tokens["low"]))
                await #expect(throws: TokenError.invalid) { try await keys.verify(try #require(tokens["high"])) }
            } else {
                _ = try await keys.verify(token)
            }
        }
    }
}
