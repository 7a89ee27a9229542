import Benchmark
import Foundation
import Gatehouse

/// Micro-benchmarks of the token work on every request: `swift package benchmark`.
/// Each reports wall time, instructions and allocations per operation.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        // Instructions come from the CPU's counters, where the machine exposes them.
        metrics: [.wallClock, .instructions, .mallocCountTotal, .throughput],
        // A thousand operations per sample: the harness reads its counters around each
        // sample, and around a single operation it would measure mostly itself.
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 1_000_000
    )

    let configuration = try! GatehouseConfiguration(
        accessSecret: String(repeating: "access-secret-", count: 4), refreshSecret: String(repeating: "refresh-secret-", count: 4)
    )
    let userID = UUID(uuidString: "5b1e6d0c-3f43-4c0e-9c8c-0d8d3c1e9a11")!
    let sessionID = UUID(uuidString: "9f0b8a2e-7c1d-4e5f-8a9b-1c2d3e4f5a6b")!
    let now = Int(Date().timeIntervalSince1970)

    func tools() async -> (TokenIssuer, TokenVerifier) {
        let keys = SigningKeys(configuration: configuration)
        return (TokenIssuer(keys: keys, configuration: configuration), TokenVerifier(keys: keys, configuration: configuration))
    }

    Benchmark("access-token sign") { benchmark in
        let (issuer, _) = await tools()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(issuer.accessToken(userID: userID, role: .user, version: 0, sessionID: sessionID, issuedAt: now))
        }
    }

    Benchmark("access-token verify") { benchmark in
        let (issuer, verifier) = await tools()
        let token = issuer.accessToken(userID: userID, role: .user, version: 0, sessionID: sessionID, issuedAt: now)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try await verifier.verifyAccess(token))
        }
    }

    Benchmark("refresh-token verify") { benchmark in
        let (issuer, verifier) = await tools()
        let token = issuer.refreshToken(userID: userID, version: 0, sessionID: sessionID, generation: 3, issuedAt: now)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try await verifier.verifyRefresh(token))
        }
    }

    // Asymmetric keys (SPEC.md §3.7): signing, a full verification (cache off: every
    // token new), and a verification of a token seen before (the verified-token cache).
    for algorithm in [JWTAlgorithm.edDSA, .es256, .rs256] {
        let key = try! JWTPrivateKey.generate(algorithm)
        func keyed(cache: Int) -> (TokenIssuer, TokenVerifier) {
            let keyed = try! GatehouseConfiguration(
                accessSecret: configuration.accessSecret, refreshSecret: configuration.refreshSecret, algorithm: algorithm,
                privateKey: key, verifiedTokenCacheCapacity: cache
            )
            let keys = SigningKeys(configuration: keyed)
            return (TokenIssuer(keys: keys, configuration: keyed), TokenVerifier(keys: keys, configuration: keyed))
        }
        Benchmark("\(algorithm.rawValue) sign", configuration: .init(scalingFactor: .one)) { benchmark in
            let (issuer, _) = keyed(cache: 0)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(issuer.accessToken(userID: userID, role: .user, version: 0, sessionID: sessionID, issuedAt: now))
            }
        }
        Benchmark("\(algorithm.rawValue) verify, every token new", configuration: .init(scalingFactor: .one)) { benchmark in
            let (issuer, verifier) = keyed(cache: 0)
            let token = issuer.accessToken(userID: userID, role: .user, version: 0, sessionID: sessionID, issuedAt: now)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(try await verifier.verifyAccess(token))
            }
        }
        Benchmark("\(algorithm.rawValue) verify, token seen before") { benchmark in
            let (issuer, verifier) = keyed(cache: AccessTokenVerifier.defaultCacheCapacity)
            let token = issuer.accessToken(userID: userID, role: .user, version: 0, sessionID: sessionID, issuedAt: now)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(try await verifier.verifyAccess(token))
            }
        }
    }

    Benchmark("users/me claims encoding") { benchmark in
        let (issuer, verifier) = await tools()
        let claims = try await verifier.verifyAccess(
            issuer.accessToken(userID: userID, role: .user, version: 0, sessionID: sessionID, issuedAt: now)
        )
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(claims.json)
        }
    }
}
