import Foundation
import NIOCore
import Synchronization

/// Admission to password hashing: bounded, and fair between clients.
///
/// bcrypt is slow on purpose (about 0.28 s per hash at cost 12 on one core here), so a
/// few requests per second of logins with distinct emails, each under its per-IP limit,
/// could queue hashes without bound and delay every real login by tens of seconds. Every
/// hash Gatehouse runs for a request (register, login, the rehash after a cost change)
/// therefore holds a slot here while it waits and runs:
/// - at most `depth` slots in all (`PASSWORD_HASH_QUEUE`), by default about two seconds
///   of work for the cores (`defaultDepth(cost:cores:)`);
/// - at most `perClient` slots per client key (the IPv4 address or IPv6 /64), so one
///   client cannot take the queue for itself (requests of unknown origin are only held
///   to the total);
/// - past either bound the request is refused at once with 503 `Service busy` and a
///   `Retry-After` of the recent time a hash took, queue wait included: never a hang.
///
/// The slots are counted here; the waiting itself is the hasher's thread pool's FIFO,
/// which is why the depth bounds how long an admitted request waits.
public final class PasswordHashQueue: Sendable {
    /// The client key of requests whose address is unknown (`IPAddress.rateLimitKey(nil)`).
    public static let unknownClient = IPAddress.rateLimitKey(nil)

    /// Most slots held at once.
    public let depth: Int
    /// Most slots one client key holds at once.
    public let perClient: Int
    private let state: Mutex<State>

    struct State {
        var held = 0
        var byClient: [String: Int] = [:]
        /// The most slots held at once so far (diagnostics and tests).
        var highWater = 0
        /// Recent seconds per hashing request, queue wait included (moving average).
        var recentSeconds: Double = 0
    }

    /// A queue of `depth` slots with `perClient` per client key (default: an eighth of the
    /// depth, at least 2).
    public init(depth: Int, perClient: Int? = nil) {
        self.depth = max(depth, 1)
        self.perClient = max(perClient ?? max(2, depth / 8), 1)
        self.state = Mutex(State())
    }

    /// About two seconds of hashing for `cores` cores at bcrypt `cost`, at least two
    /// hashes per core. One cost-12 hash took 0.28 s on one core here, and each step of
    /// cost doubles it: cost 12 on 2 cores gives 14, cost 10 gives 57.
    public static func defaultDepth(cost: Int, cores: Int = System.coreCount) -> Int {
        let secondsPerHash = 0.28 * pow(2, Double(cost - 12))
        let depth = Double(max(cores, 1)) * 2 / secondsPerHash
        return Int(min(max(depth, Double(2 * max(cores, 1))), Double(GatehouseConfiguration.maximumPasswordHashQueue)))
    }

    /// Runs `body` holding a slot for `client`, or throws 503 `Service busy` at once when
    /// none is free.
    public func run<T: Sendable>(client: String, _ body: () async throws -> T) async throws -> T {
        let started = ContinuousClock.now
        if let retryAfter = admit(client) {
            throw AppError.serviceBusy(retryAfter: retryAfter)
        }
        defer { release(client, after: ContinuousClock.now - started) }
        return try await body()
    }

    /// Takes a slot; the `Retry-After` seconds when there is none.
    private func admit(_ client: String) -> Int? {
        state.withLock { state in
            let mine = state.byClient[client, default: 0]
            // Requests whose client is unknown (no peer address) cannot be told apart, so
            // only the total bound applies to them: one share for all would starve them.
            guard state.held < depth, mine < perClient || client == Self.unknownClient else {
                return max(1, Int(state.recentSeconds.rounded(.up)))
            }
            state.held += 1
            state.byClient[client] = mine + 1
            state.highWater = max(state.highWater, state.held)
            return nil
        }
    }

    private func release(_ client: String, after elapsed: Duration) {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        state.withLock { state in
            state.held -= 1
            let mine = state.byClient[client, default: 1] - 1
            state.byClient[client] = mine > 0 ? mine : nil
            state.recentSeconds = state.recentSeconds == 0 ? seconds : state.recentSeconds * 0.8 + seconds * 0.2
        }
    }

    /// Slots held now.
    public var held: Int { state.withLock { $0.held } }
    /// The most slots held at once since the queue was made.
    public var highWater: Int { state.withLock { $0.highWater } }
}
