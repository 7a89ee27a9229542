import Crypto
import Synchronization

/// Access tokens already verified, keyed by the SHA-256 of the whole token, so a client
/// presenting the same token again costs a hash and a lookup instead of a signature
/// check (an Ed25519 verification is tens of microseconds; an HS256 one, one).
///
/// Only a token that passed every check is remembered, with its claims; a hit still
/// runs the time checks (so it expires exactly when the token does) and whatever the
/// caller checks after (the revocation list). The key is a collision-resistant hash of
/// every byte, so no other token can hit an entry. Memory is capped: at `capacity`
/// entries, those past their `exp` go first, then arbitrary ones (dictionary order,
/// which the per-process hash seed makes unpredictable) down to three quarters.
package final class VerifiedTokenCache: Sendable {
    struct Key: Hashable {
        let a: UInt64, b: UInt64, c: UInt64, d: UInt64
    }

    struct Entry {
        let claims: AccessClaims
        /// Unix seconds after which the token is expired even with the skew.
        let until: Int
    }

    let capacity: Int
    private let entries: Mutex<[Key: Entry]>

    package init(capacity: Int) {
        self.capacity = max(capacity, 1)
        self.entries = Mutex([:])
    }

    static func key(_ token: UnsafeRawBufferPointer) -> Key {
        SHA256.hash(data: token).withUnsafeBytes { bytes in
            Key(a: bytes.load(as: UInt64.self), b: bytes.load(fromByteOffset: 8, as: UInt64.self),
                c: bytes.load(fromByteOffset: 16, as: UInt64.self), d: bytes.load(fromByteOffset: 24, as: UInt64.self))
        }
    }

    /// The claims of the verified token with `key`, if remembered.
    func claims(_ key: Key) -> AccessClaims? {
        entries.withLock { $0[key]?.claims }
    }

    /// Remembers a verified token.
    func insert(_ claims: AccessClaims, key: Key, until: Int, now: Int) {
        entries.withLock { entries in
            if entries.count >= capacity {
                // Always down to three quarters, so the O(n) pass runs once per quarter
                // of the capacity inserted, never once per insert.
                entries = entries.filter { $0.value.until >= now }
                var excess = entries.count - capacity * 3 / 4
                for key in entries.keys where excess > 0 {
                    entries[key] = nil
                    excess -= 1
                }
            }
            entries[key] = Entry(claims: claims, until: until)
        }
    }

    /// How many tokens are remembered.
    package var count: Int { entries.withLock { $0.count } }
}
