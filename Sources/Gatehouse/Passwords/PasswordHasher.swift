/// Hashes and verifies passwords. Implementations must never block the caller's
/// event loop: the work is CPU-heavy by design.
public protocol PasswordHasher: Sendable {
    /// Returns a hash of `password`.
    func hash(_ password: String) async throws -> String
    /// Whether `password` matches `hash`. Must cost the same whether or not it matches.
    func verify(_ password: String, against hash: String) async throws -> Bool
    /// A hash that matches no password but costs as much to check as a real one: login
    /// compares against it when the email is unknown, so timing does not reveal accounts.
    var dummyHash: String { get }
}
