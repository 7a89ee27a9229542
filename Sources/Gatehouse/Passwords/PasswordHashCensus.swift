import Synchronization

/// How many stored password hashes there are of each cost, so that a login for an
/// unknown email costs what a login for the most common real account costs.
///
/// Without it an unknown email costs the configured cost while accounts that have not
/// logged in since a `BCRYPT_COST` change still cost their old one (0.09 s against
/// 0.36 s from 10 to 12): timing would tell which emails are registered. Hashes are
/// counted by the dummy hash that stands for them (`PasswordHasher.dummyHash(like:)`,
/// one per bcrypt cost, whatever the `$2a$`/`$2b$`/`$2y$` spelling). Counts are read
/// from the database once, on the first login that needs them, and then kept up to date
/// by this process's registrations and rehashes. Other instances of a fleet change them
/// too, so this is an estimate; it only has to find the majority.
final class PasswordHashCensus: Sendable {
    /// Counts by dummy hash; `nil` until loaded.
    private let counts = Mutex<[String: Int]?>(nil)
    private let dummyFor: @Sendable (String) -> String

    /// `dummyFor` maps a stored hash (or its first 7 characters) to the dummy that costs
    /// the same to check.
    init(dummyFor: @escaping @Sendable (String) -> String) {
        self.dummyFor = dummyFor
    }

    /// The dummy of the cost most stored hashes have, loading the counts with `load`
    /// (counts by the hash's first 7 characters) the first time; `nil` when there are no users.
    func mostCommonDummy(load: () async throws -> [String: Int]) async throws -> String? {
        if let known = counts.withLock({ $0 }) { return Self.majority(known) }
        var loaded: [String: Int] = [:]
        for (prefix, count) in try await load() {
            loaded[dummyFor(prefix), default: 0] += count
        }
        let merged = counts.withLock { counts in
            // Another login may have loaded them meanwhile; keep the first.
            if counts == nil { counts = loaded }
            return counts!
        }
        return Self.majority(merged)
    }

    /// A hash was stored (counted only once the counts are loaded).
    func added(_ hash: String) {
        let dummy = dummyFor(hash)
        counts.withLock { counts in counts?[dummy, default: 0] += 1 }
    }

    /// A stored hash was replaced by another (of another cost, as a rule).
    func replaced(_ old: String, with new: String) {
        let (removed, added) = (dummyFor(old), dummyFor(new))
        counts.withLock { counts in
            guard counts != nil else { return }
            let left = (counts![removed] ?? 1) - 1
            counts![removed] = left > 0 ? left : nil
            counts![added, default: 0] += 1
        }
    }

    private static func majority(_ counts: [String: Int]) -> String? {
        counts.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key
    }
}
