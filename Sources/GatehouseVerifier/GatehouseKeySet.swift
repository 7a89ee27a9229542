import AsyncHTTPClient
import Foundation
import GatehouseJWT
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// Gatehouse's public keys, fetched from its JWKS URL, and the verifier they make: what a
/// downstream service needs to check Gatehouse access tokens without any secret
/// (SPEC.md §3.7).
///
/// - The key set is fetched on first use (or by `load()` at start-up) and kept as long as
///   the response's `Cache-Control: max-age` says (`defaultMaxAge` without one, never more
///   than `maximumMaxAge`). Once stale it is refetched in the background while requests go
///   on being verified with the keys held.
/// - A token whose `kid` is not in the set triggers a refetch, then one retry: that is how
///   a new signing key is picked up before the cached set would expire.
/// - Fetches are at most one per `minimumRefetchInterval` (30 s), whatever asks for them,
///   and one at a time, so a flood of tokens with junk `kid`s costs Gatehouse one request
///   per 30 s. Until a first fetch has succeeded, the interval is one second.
/// - A failed fetch (Gatehouse unreachable, an error status, a body that is not a key set)
///   changes nothing: the keys held keep verifying, and the failure is logged.
///
/// Verification is `AccessTokenVerifier`'s, the code Gatehouse itself runs: every key
/// pinned to its own algorithm, the §3.1 claim checks, `iss` and `aud`, and a cache of
/// verified tokens. Revocation (SPEC.md §3.6) is not seen downstream: a token stays
/// valid here until its `exp`.
public final class GatehouseKeySet: Sendable {
    /// Where the keys are and how tokens must look.
    public struct Configuration: Sendable {
        /// Gatehouse's `/.well-known/jwks.json`.
        public var jwksURL: String
        /// The `iss` tokens must carry (Gatehouse's `JWT_ISSUER`).
        public var issuer: String
        /// The `aud` tokens must carry (Gatehouse's `JWT_AUDIENCE`); `nil`: none.
        public var audience: String?
        /// Clock difference tolerated on `iat`, `nbf` and `exp`, at most 30 s.
        public var clockSkew: Int = 30
        /// Fewest seconds between two fetches.
        public var minimumRefetchInterval: Duration = .seconds(30)
        /// How long a key set without `max-age` is fresh.
        public var defaultMaxAge: Duration = .seconds(300)
        /// Longest a key set is held without asking again, whatever `max-age` says.
        public var maximumMaxAge: Duration = .seconds(86_400)
        /// How long one fetch may take, body included. AsyncHTTPClient goes on retrying a
        /// refused connection until then, so it is also how long a request with an
        /// unknown `kid` may wait while Gatehouse is unreachable.
        public var fetchTimeout: Duration = .seconds(3)
        /// Most verified tokens remembered; 0 turns the cache off.
        public var cacheCapacity: Int = AccessTokenVerifier.defaultCacheCapacity

        /// A configuration with the defaults above.
        public init(jwksURL: String, issuer: String = "gatehouse", audience: String? = nil) {
            self.jwksURL = jwksURL
            self.issuer = issuer
            self.audience = audience
        }
    }

    struct State {
        var verifier: AccessTokenVerifier?
        var freshUntil: ContinuousClock.Instant
        var lastAttempt: ContinuousClock.Instant?
        var fetch: Task<Void, Never>?
        var fetches = 0
    }

    let configuration: Configuration
    let httpClient: HTTPClient
    let logger: Logger
    let now: @Sendable () -> Date
    let clock = ContinuousClock()
    private let state: Mutex<State>

    /// Creates the key set; nothing is fetched yet. `now` is the clock tokens' times are
    /// checked against.
    public init(
        configuration: Configuration, httpClient: HTTPClient = .shared, logger: Logger = Logger(label: "gatehouse-verifier"),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.configuration = configuration
        self.httpClient = httpClient
        self.logger = logger
        self.now = now
        self.state = Mutex(State(freshUntil: ContinuousClock().now))
    }

    /// Fetches the key set now (at start-up, so the first request does not wait); `false`
    /// when that failed, in which case verification keeps trying, at most once a second.
    @discardableResult
    public func load() async -> Bool {
        await fetch(force: true)?.value
        return state.withLock { $0.verifier != nil }
    }

    /// Verifies an access token: `TokenError.expired` past its `exp`, `.invalid` for
    /// anything else wrong (including "no key set could be fetched yet").
    public func verify(_ token: String) async throws(TokenError) -> AccessClaims {
        guard let verifier = await currentVerifier() else { throw .invalid }
        let first = Result { () throws(TokenError) in try verifier.verify(token) }
        guard case .failure(.invalid) = first, let kid = AccessTokenVerifier.kid(of: token), !verifier.knows(kid: kid) else {
            return try first.get()
        }
        // An unknown key: perhaps Gatehouse has a new one. Ask (rate-limited), retry once.
        await fetch(force: false)?.value
        guard let refreshed = state.withLock({ $0.verifier }), refreshed.knows(kid: kid) else { throw .invalid }
        return try refreshed.verify(token)
    }

    /// The `kid`s of the keys held, current first.
    public var kids: [String] {
        state.withLock { $0.verifier?.keys.publicKeys.map(\.kid) ?? [] }
    }

    /// How many fetches have completed, successful or not (for tests and metrics).
    public var fetchCount: Int { state.withLock { $0.fetches } }

    /// The verifier of the keys held, fetching first when there is none; a stale set
    /// starts a background refetch and is used meanwhile.
    private func currentVerifier() async -> AccessTokenVerifier? {
        let (verifier, stale) = state.withLock { ($0.verifier, clock.now >= $0.freshUntil) }
        if let verifier {
            if stale { _ = fetch(force: false) }
            return verifier
        }
        await fetch(force: false)?.value
        return state.withLock { $0.verifier }
    }

    /// The fetch under way, or a new one if the interval allows (`force`: regardless);
    /// `nil` when none may start.
    private func fetch(force: Bool) -> Task<Void, Never>? {
        state.withLock { state in
            if let running = state.fetch { return running }
            let now = clock.now
            let interval = state.verifier == nil ? .seconds(1) : configuration.minimumRefetchInterval
            if !force, let last = state.lastAttempt, now < last + interval { return nil }
            state.lastAttempt = now
            let task = Task { await self.fetchOnce() }
            state.fetch = task
            return task
        }
    }

    private func fetchOnce() async {
        let outcome: Result<(keys: [JWTPublicKey], maxAge: Duration), any Error>
        do {
            // The whole fetch, body included, races the timeout: AsyncHTTPClient's own
            // deadline ends when the headers arrive, and a body that trickles in would
            // otherwise hold every request waiting on this fetch.
            outcome = .success(try await withThrowingTaskGroup(of: (keys: [JWTPublicKey], maxAge: Duration)?.self) { group in
                group.addTask { try await self.download() }
                group.addTask {
                    try await Task.sleep(for: self.configuration.fetchTimeout)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let fetched = first else { throw JWKSError.timedOut }
                return fetched
            })
        } catch {
            outcome = .failure(error)
        }
        let now = clock.now
        let changed: Bool? = state.withLock { state in
            state.fetch = nil
            state.fetches += 1
            guard case .success(let fetched) = outcome else { return nil }
            state.freshUntil = now + fetched.maxAge
            // The same keys keep the same verifier, and so its cache of verified tokens.
            if let held = state.verifier, held.keys.publicKeys.map(\.kid) == fetched.keys.map(\.kid) { return false }
            state.verifier = AccessTokenVerifier(
                keys: AccessTokenKeys(publicKeys: fetched.keys), issuer: configuration.issuer, audience: configuration.audience,
                clockSkew: configuration.clockSkew, cacheCapacity: configuration.cacheCapacity, now: self.now
            )
            return true
        }
        switch (outcome, changed) {
        case (.failure(let error), _):
            logger.warning("JWKS fetch failed; verifying with the keys held", metadata: ["url": "\(configuration.jwksURL)", "error": "\(error)"])
        case (_, true?):
            logger.info("JWKS keys updated", metadata: ["kids": "\(kids.joined(separator: ","))"])
        default:
            break
        }
    }

    /// One GET of the key set: its usable keys and how long they are fresh.
    private func download() async throws -> (keys: [JWTPublicKey], maxAge: Duration) {
        var request = HTTPClientRequest(url: configuration.jwksURL)
        request.headers.add(name: "Accept", value: "application/json")
        let (seconds, attoseconds) = configuration.fetchTimeout.components
        let timeout = TimeAmount.nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        let response = try await httpClient.execute(request, timeout: timeout)
        let body = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok else { throw JWKSError.status(Int(response.status.code)) }
        guard let keys = Self.keys(fromJWKS: Array(buffer: body)) else { throw JWKSError.notAKeySet }
        let maxAge = JWKSCacheControl.maxAge(response.headers[canonicalForm: "cache-control"].joined(separator: ","))
        return (keys, min(maxAge.map { .seconds($0) } ?? configuration.defaultMaxAge, configuration.maximumMaxAge))
    }

    /// The usable keys of a JWK Set document (`{"keys":[…]}`); keys of other types or
    /// that fail `JWTPublicKey(jwk:)`'s checks are left out. `nil` when the document is
    /// not a key set.
    static func keys(fromJWKS bytes: [UInt8]) -> [JWTPublicKey]? {
        guard case .object(let document)? = JSONParser.parse(bytes), case .array(let entries)? = document["keys"] else { return nil }
        return entries.compactMap { entry in
            guard case .object(let jwk) = entry else { return nil }
            return JWTPublicKey(jwk: jwk)
        }
    }
}

/// Why a fetch failed.
enum JWKSError: Error, CustomStringConvertible {
    case status(Int)
    case notAKeySet
    case timedOut

    var description: String {
        switch self {
        case .status(let code): "answered \(code)"
        case .notAKeySet: "the body is not a JWK Set"
        case .timedOut: "no complete answer within the fetch timeout"
        }
    }
}

/// `Cache-Control` as a key-set client reads it (RFC 9111 §5.2.2).
package enum JWKSCacheControl {
    /// Seconds the response may be reused: `max-age`, or 0 for `no-store`/`no-cache`;
    /// `nil` when it says neither.
    package static func maxAge(_ header: String) -> Int? {
        var maxAge: Int?
        for directive in header.split(separator: ",") {
            let parts = directive.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            switch parts.first {
            case "no-store", "no-cache": return 0
            case "max-age":
                guard parts.count == 2 else { continue }
                let digits = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                guard !digits.isEmpty, digits.count <= 10, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { continue }
                maxAge = Int(digits)
            default: continue
            }
        }
        return maxAge
    }
}
