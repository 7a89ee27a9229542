/// Hashes and verifies passwords. Implementations must never block the caller's
/// event loop: the work is CPU-heavy by design.
public protocol PasswordHasher: Sendable {
    /// Returns a hash of `password`.
    func hash(_ password: String) async throws -> String
    /// Whether `password` matches `hash`. Must cost the same whether or not it matches.
    func verify(_ password: String, against hash: String) async throws -> Bool
    /// A hash that matches no password but costs as much to check as a real one of the
    /// configured parameters: login compares against it when the email is unknown, so
    /// timing does not reveal accounts.
    var dummyHash: String { get }
    /// A hash that matches no password and costs as much to check as `hash` does (same
    /// algorithm parameters, such as bcrypt's cost).
    func dummyHash(like hash: String) -> String
    /// Whether `hash` was made with other parameters than the configured ones, so a
    /// successful login should store a new hash.
    func needsRehash(_ hash: String) -> Bool
}

extension PasswordHasher {
    /// Hashers with a single set of parameters: the configured dummy.
    public func dummyHash(like hash: String) -> String { dummyHash }
    /// Hashers with a single set of parameters never rehash.
    public func needsRehash(_ hash: String) -> Bool { false }
}
