import HummingbirdBcrypt
import NIOCore
import NIOPosix
import Synchronization

/// bcrypt on a dedicated `NIOThreadPool`.
///
/// The pool is separate from `NIOThreadPool.singleton`, which SQLite uses for every
/// query, so database calls never queue behind 0.3 s hashes (STACK.md pitfall 5).
public struct BcryptPasswordHasher: PasswordHasher {
    /// One pool per process, sized to the cores, started on first use and never stopped
    /// (like NIO's own singletons).
    public static let sharedThreadPool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: System.coreCount)
        pool.start()
        return pool
    }()

    /// bcrypt only reads the first 72 bytes of a password; longer ones are refused at
    /// registration and never match at login.
    public static let maximumPasswordBytes = 72

    /// The cost new hashes are made with.
    public let cost: Int
    let threadPool: NIOThreadPool
    public let dummyHash: String
    /// One dummy per cost met in stored hashes (at most 28: costs 4–31).
    private let dummies: DummyHashes

    /// Creates a hasher with the given cost (4–31).
    public init(cost: Int, threadPool: NIOThreadPool = BcryptPasswordHasher.sharedThreadPool) {
        precondition((4...31).contains(cost), "bcrypt cost must be between 4 and 31")
        self.cost = cost
        self.threadPool = threadPool
        self.dummyHash = Self.makeDummyHash(cost: cost)
        self.dummies = DummyHashes([cost: dummyHash])
    }

    public func dummyHash(like hash: String) -> String {
        guard let stored = Self.cost(of: hash) else { return dummyHash }
        return dummies.byCost.withLock { dummies in
            if let dummy = dummies[stored] { return dummy }
            let dummy = Self.makeDummyHash(cost: stored)
            dummies[stored] = dummy
            return dummy
        }
    }

    public func needsRehash(_ hash: String) -> Bool {
        Self.cost(of: hash).map { $0 != cost } ?? false
    }

    /// The cost of a modular-crypt bcrypt string (`$2b$12$…`, also `$2a$`/`$2y$`); `nil`
    /// for anything else.
    static func cost(of hash: String) -> Int? {
        let bytes = Array(hash.utf8.prefix(7))
        guard bytes.count == 7, bytes[0] == UInt8(ascii: "$"), bytes[1] == UInt8(ascii: "2"), bytes[3] == UInt8(ascii: "$"),
              bytes[6] == UInt8(ascii: "$"), [UInt8(ascii: "a"), UInt8(ascii: "b"), UInt8(ascii: "y")].contains(bytes[2]),
              (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[4]), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[5])
        else { return nil }
        let cost = Int(bytes[4] - UInt8(ascii: "0")) * 10 + Int(bytes[5] - UInt8(ascii: "0"))
        return (4...31).contains(cost) ? cost : nil
    }

    public func hash(_ password: String) async throws -> String {
        let cost = UInt8(self.cost)
        return try await AuthMetrics.timingHash { try await threadPool.runIfActive { Bcrypt.hash(password, cost: cost) } }
    }

    public func verify(_ password: String, against hash: String) async throws -> Bool {
        let matches = try await AuthMetrics.timingHash { try await threadPool.runIfActive { Bcrypt.verify(password, hash: hash) } }
        // The C implementation stops at a NUL byte and bcrypt ignores bytes past 72, so a
        // password that registration could never have accepted must not match either; the
        // comparison above still ran, so the answer costs the same.
        return matches && Self.isAcceptable(password)
    }

    /// Whether a password could have been set: no NUL byte, at most 72 bytes.
    static func isAcceptable(_ password: String) -> Bool {
        password.utf8.count <= maximumPasswordBytes && !password.utf8.contains(0)
    }

    /// A well-formed bcrypt string of the configured cost with a random salt and digest.
    /// Checking a password against it runs the full key schedule, exactly like a real
    /// hash, but no password can match it. Building it costs nothing at start-up.
    static func makeDummyHash(cost: Int) -> String {
        let alphabet = Array("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        var generator = SystemRandomNumberGenerator()
        let body = String((0..<53).map { _ in alphabet.randomElement(using: &generator)! })
        let costText = cost < 10 ? "0\(cost)" : "\(cost)"
        return "$2b$\(costText)$\(body)"
    }
}

/// The dummy hashes of a hasher, shared by its copies.
private final class DummyHashes: Sendable {
    let byCost: Mutex<[Int: String]>

    init(_ initial: [Int: String]) {
        byCost = Mutex(initial)
    }
}
