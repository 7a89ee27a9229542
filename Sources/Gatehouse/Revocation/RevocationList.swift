import Foundation
import Logging
import Synchronization

/// One change that ends access tokens' right to act (SPEC.md §3.6), as the change table
/// records it.
public struct RevocationChange: Sendable, Equatable {
    /// What changed.
    public enum Kind: Sendable, Equatable {
        /// The user's `tokenVersion` is now this: tokens of a lower `version` are refused.
        case version(Int)
        /// This session of the user was revoked: tokens of this `sid` are refused.
        case session(UUID)
        /// The user's role is now this: tokens of another `role` are refused.
        case role(Role)
        /// The user was deleted: every token of this `sub` is refused.
        case deleted
    }

    /// The change's place in the change table (increasing in the order changes were written).
    public let sequence: Int64
    public let userID: UUID
    public let kind: Kind
    /// When the change was made, Unix seconds.
    public let at: Int

    public init(sequence: Int64, userID: UUID, kind: Kind, at: Int) {
        self.sequence = sequence
        self.userID = userID
        self.kind = kind
        self.at = at
    }
}

/// What every instance knows of recent revocations: for each user touched in the last
/// access-token lifetime, the lowest `version` still valid, the current role (when it
/// changed), whether the user was deleted and which sessions were revoked. The verifier
/// consults it after the signature and time checks (`refuses`): one hash lookup by user,
/// under a lock held for nanoseconds, and none at all while the list is empty.
///
/// The decision uses the token's claims, never its `iat`: a token issued after a change,
/// even in the same second, carries the new version, the new role or a new session, and
/// passes. An entry is dropped `window` (`JWT_ACCESS_TTL` + clock skew) after its user's
/// latest change, when no token it affects can still be valid, so memory follows the
/// changes of one access-token lifetime, not the number of users.
///
/// Past `capacity` revocations (an entry counts one, or one per revoked session), the entries that would expire soonest
/// are evicted, and the list fails safe rather than forgetting: it remembers the evicted
/// users in a fixed 128 KiB bit set (a hash of the user id; a collision refuses another
/// user too) and, until the evicted entries would have expired, refuses every token of
/// those users issued no later than the newest evicted change. Tokens they obtain later
/// (by refresh, which reads the database) pass. Each eviction is counted (`evictions`) and
/// logged by the feed.
public final class RevocationList: Sendable {
    struct Entry {
        var minimumVersion = 0
        var role: Role?
        var roleSequence: Int64 = -1
        var deleted = false
        var sessions: [UUID] = []
        var lastChange: Int
        var until: Int
    }

    struct Overflow {
        static let bitCount = 1 << 20
        var bits: [UInt64] = []
        var lastChange = Int.min
        var until = Int.min

        static func slot(_ user: UUID) -> Int {
            // The id's random bits (v4), folded: a hash that costs nothing.
            let u = user.uuid
            let word = UInt64(u.12) << 24 | UInt64(u.13) << 16 | UInt64(u.14) << 8 | UInt64(u.15)
                ^ (UInt64(u.4) << 24 | UInt64(u.5) << 16 | UInt64(u.6) << 8 | UInt64(u.7))
            return Int(word % UInt64(bitCount))
        }

        mutating func insert(_ user: UUID) {
            if bits.isEmpty { bits = Array(repeating: 0, count: Self.bitCount / 64) }
            let slot = Self.slot(user)
            bits[slot / 64] |= 1 << UInt64(slot % 64)
        }

        func contains(_ user: UUID) -> Bool {
            guard !bits.isEmpty else { return false }
            let slot = Self.slot(user)
            return bits[slot / 64] & (1 << UInt64(slot % 64)) != 0
        }
    }

    struct State {
        var entries: [UUID: Entry] = [:]
        /// Revocations held: one per entry, or one per revoked session of an entry with
        /// several. What `capacity` bounds.
        var size = 0
        /// (until, user) in the order entries were created or extended; an item whose
        /// entry has since been extended or removed is skipped.
        var expiries: [(until: Int, user: UUID)] = []
        var head = 0
        var overflow = Overflow()
        var evictions = 0
    }

    /// Seconds an entry is kept after its user's latest change.
    public let window: Int
    /// Most revocations kept (an entry counts one, or one per revoked session).
    public let capacity: Int
    private let state = Mutex(State())
    /// Whether any entry or an eviction horizon exists: the verifier's lock-free fast path.
    private let active = Atomic<Bool>(false)

    /// A list keeping each change `window` seconds (`JWT_ACCESS_TTL` + skew), holding at
    /// most `capacity` revocations.
    public init(window: Int, capacity: Int = 1_000_000) {
        self.window = max(1, window)
        self.capacity = max(1, capacity)
    }

    /// A list for `configuration`'s access-token lifetime and clock skew.
    public convenience init(configuration: GatehouseConfiguration, capacity: Int = 1_000_000) {
        self.init(window: configuration.accessTokenTTL + configuration.clockSkew, capacity: capacity)
    }

    /// Whether the token these claims come from has been revoked.
    public func refuses(_ claims: AccessClaims, now: Int) -> Bool {
        guard active.load(ordering: .acquiring), let user = UUID(uuidString: claims.sub) else { return false }
        return state.withLock { state in
            if let entry = state.entries[user] {
                if entry.deleted || claims.version < entry.minimumVersion { return true }
                if let role = entry.role, role != claims.role { return true }
                if !entry.sessions.isEmpty, let session = UUID(uuidString: claims.sid), entry.sessions.contains(session) {
                    return true
                }
                return false
            }
            let overflow = state.overflow
            return overflow.until > now && claims.iat <= overflow.lastChange && overflow.contains(user)
        }
    }

    /// Applies changes (in the order of their sequence) and drops what has expired at
    /// `now`. Returns how many entries were evicted to stay within `capacity`.
    @discardableResult
    public func apply(_ changes: some Sequence<RevocationChange>, now: Int) -> Int {
        let window = self.window
        let capacity = self.capacity
        let (evicted, isActive, applied) = state.withLock { state in
            var applied = 0
            for change in changes where change.at + window > now {
                applied += 1
                let until = change.at + window
                let existing = state.entries[change.userID]
                var entry = existing ?? Entry(lastChange: change.at, until: until)
                if existing == nil { state.size += 1 }
                switch change.kind {
                case .version(let version):
                    entry.minimumVersion = max(entry.minimumVersion, version)
                case .session(let session):
                    if !entry.sessions.contains(session) {
                        // An entry weighs one revocation, or one per revoked session.
                        if !entry.sessions.isEmpty { state.size += 1 }
                        entry.sessions.append(session)
                    }
                case .role(let role):
                    if change.sequence > entry.roleSequence {
                        entry.role = role
                        entry.roleSequence = change.sequence
                    }
                case .deleted:
                    entry.deleted = true
                }
                entry.lastChange = max(entry.lastChange, change.at)
                let wasExtended = existing == nil || until > entry.until
                entry.until = max(entry.until, until)
                state.entries[change.userID] = entry
                if wasExtended { state.expiries.append((entry.until, change.userID)) }
            }
            Self.removeExpired(&state, now: now)
            var evicted = 0
            while state.size > capacity, state.head < state.expiries.count {
                guard let (user, entry) = Self.removeFront(&state) else { continue }
                state.overflow.insert(user)
                state.overflow.lastChange = max(state.overflow.lastChange, entry.lastChange)
                state.overflow.until = max(state.overflow.until, entry.until)
                evicted += 1
            }
            state.evictions += evicted
            return (evicted, !state.entries.isEmpty || state.overflow.until > now, applied)
        }
        active.store(isActive, ordering: .releasing)
        if applied > 0 { AuthMetrics.revocationsApplied(applied) }
        return evicted
    }

    /// Drops the entries that expired at `now`.
    public func removeExpired(now: Int) {
        let isActive = state.withLock { state in
            Self.removeExpired(&state, now: now)
            return !state.entries.isEmpty || state.overflow.until > now
        }
        active.store(isActive, ordering: .releasing)
    }

    private static func removeExpired(_ state: inout State, now: Int) {
        while state.head < state.expiries.count, state.expiries[state.head].until <= now {
            _ = removeFront(&state)
        }
        if state.overflow.until != .min, state.overflow.until <= now {
            state.overflow = Overflow()
        }
    }

    /// Takes the front expiry item and, if it is still its entry's latest, removes that
    /// entry and returns it.
    private static func removeFront(_ state: inout State) -> (UUID, Entry)? {
        let item = state.expiries[state.head]
        state.head += 1
        if state.head > 1_024, state.head * 2 > state.expiries.count {
            state.expiries.removeFirst(state.head)
            state.head = 0
        }
        guard let entry = state.entries[item.user], entry.until == item.until else { return nil }
        state.entries[item.user] = nil
        state.size -= max(1, entry.sessions.count)
        return (item.user, entry)
    }

    /// Revocations held now (an entry counts one, or one per revoked session).
    public var count: Int { state.withLock { $0.size } }
    /// Users with an entry now.
    public var users: Int { state.withLock { $0.entries.count } }
    /// Entries evicted so far to stay within `capacity`.
    public var evictions: Int { state.withLock { $0.evictions } }
}

/// Keeps a `RevocationList` current with the changes a database records.
public protocol RevocationFeed: Sendable {
    /// The list the verifier consults.
    var list: RevocationList { get }
    /// Returns once every change committed before the call is in `list`.
    func catchUp(logger: Logger) async throws
}
