import Synchronization

/// How many stored password hashes there are of each kind (for bcrypt, each cost), so
/// that a login for an unknown email costs what a login for the most common real
/// account costs.
///
/// Without it an unknown email costs the configured cost while accounts that have not
/// logged in since a `BCRYPT_COST` change still cost their old one (0.09 s against
/// 0.36 s from 10 to 12): timing would tell which emails are registered. Counts are read
/// from the database once, on the first login that needs them, and then kept up to date
/// by this process's registrations and rehashes. Other instances of a fleet change them
/// too, so this is an estimate; it only has to find the majority.
final class PasswordHashCensus: Sendable {
    /// Counts by the hash's first 7 characters (`$2b$12$`).
    private let counts = Mutex<[String: Int]?>(nil)

    static func kind(of hash: String) -> String { String(hash.prefix(7)) }

    /// The kind most stored hashes are of, loading the counts with `load` the first time;
    /// `nil` when there are no users.
    func mostCommonKind(load: () async throws -> [String: Int]) async throws -> String? {
        if let known = counts.withLock({ $0 }) { return Self.majority(known) }
        let loaded = try await load()
        let merged = counts.withLock { counts in
            // A registration may have been counted meanwhile; the database already has it.
            if counts == nil { counts = loaded }
            return counts!
        }
        return Self.majority(merged)
    }

    /// A hash of this kind was stored (counted only once the counts are loaded).
    func added(_ hash: String) {
        counts.withLock { counts in counts?[Self.kind(of: hash), default: 0] += 1 }
    }

    /// A stored hash was replaced by one of another kind.
    func replaced(_ old: String, with new: String) {
        counts.withLock { counts in
            guard counts != nil else { return }
            let kind = Self.kind(of: old)
            let left = (counts![kind] ?? 1) - 1
            counts![kind] = left > 0 ? left : nil
            counts![Self.kind(of: new), default: 0] += 1
        }
    }

    private static func majority(_ counts: [String: Int]) -> String? {
        counts.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key
    }
}
