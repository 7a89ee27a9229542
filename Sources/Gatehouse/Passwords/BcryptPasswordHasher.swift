import HummingbirdBcrypt
import NIOCore
import NIOPosix

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

    let cost: Int
    let threadPool: NIOThreadPool
    public let dummyHash: String

    /// Creates a hasher with the given cost (4–31).
    public init(cost: Int, threadPool: NIOThreadPool = BcryptPasswordHasher.sharedThreadPool) {
        precondition((4...31).contains(cost), "bcrypt cost must be between 4 and 31")
        self.cost = cost
        self.threadPool = threadPool
        self.dummyHash = Self.makeDummyHash(cost: cost)
    }

    public func hash(_ password: String) async throws -> String {
        let cost = UInt8(self.cost)
        return try await threadPool.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    public func verify(_ password: String, against hash: String) async throws -> Bool {
        let matches = try await threadPool.runIfActive { Bcrypt.verify(password, hash: hash) }
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
