import Crypto
import Foundation
import Synchronization

/// A `RateLimiter` for one process: a fixed window per key that opens with the key's
/// first event, so a refused client learns exactly when it may try again.
///
/// Memory is bounded whatever clients send:
/// - keys are stored as 128-bit digests, so a 60 KB email costs what a short one does;
/// - every window has the same length, so windows end in the order they opened; a queue
///   in that order lets expired windows be dropped from its front as time passes, in
///   constant time per window;
/// - at `capacity` windows the one that ends soonest *among those still allowing events*
///   is evicted (it would have freed itself first). A window that is refusing (a locked
///   account, a limited IP) is never evicted: a spray of new keys must not unlock it. If
///   every window is refusing, the new key is refused until the soonest one ends. So a
///   spray can displace counts that do not matter yet, and never grows memory.
///   The queue holds at most twice `capacity` entries before it is compacted.
///
/// `approximateBytes` reports the storage held, for tests and diagnostics.
public final class InMemoryRateLimiter: RateLimiter {
    /// Keys tracked per limiter unless told otherwise: at most about 9 MB of storage
    /// (see `approximateBytes`; measured after a spray of a million keys).
    public static let defaultCapacity = 50_000

    /// The limit every key is held to.
    public let limit: RateLimit
    /// The most windows held at once.
    public let capacity: Int
    private let state: Mutex<State>

    /// Creates a limiter; `capacity` is at least 10.
    public init(_ limit: RateLimit, capacity: Int = InMemoryRateLimiter.defaultCapacity) {
        self.limit = limit
        self.capacity = max(capacity, 10)
        self.state = Mutex(State())
    }

    public func acquire(_ key: String, now: Date) -> RateLimitDecision {
        let digest = Digest(key)
        let time = now.timeIntervalSince1970
        return state.withLock { state in
            if var window = state.windows[digest], time < window.end {
                guard Int(window.count) < limit.count else {
                    // Whole seconds, rounded up: waiting that long always reaches the end.
                    return .limited(retryAfter: max(1, Int((window.end - time).rounded(.up))))
                }
                window.count += 1
                state.windows[digest] = window
                return .allowed
            }
            guard state.open(digest, until: time + Double(limit.window), at: time, capacity: capacity, limit: limit.count) else {
                // Full of refusing windows: refuse rather than forget one of them.
                return .limited(retryAfter: max(1, Int(((state.soonestEnd() ?? time) - time).rounded(.up))))
            }
            return .allowed
        }
    }

    public func reset(_ key: String) {
        let digest = Digest(key)
        _ = state.withLock { $0.windows.removeValue(forKey: digest) }
    }

    /// How many windows are held now.
    public var trackedKeys: Int { state.withLock { $0.windows.count } }

    /// The bytes of storage the limiter holds: every allocated slot, used or not (a
    /// dictionary fills at most three quarters of its buckets).
    public var approximateBytes: Int {
        state.withLock { state in
            let buckets = (state.windows.capacity * 4 + 2) / 3
            return buckets * (MemoryLayout<Digest>.stride + MemoryLayout<Window>.stride + 1)
                + state.queue.capacity * MemoryLayout<QueueEntry>.stride
        }
    }

    /// The first 128 bits of the key's SHA-256.
    struct Digest: Hashable {
        let high: UInt64
        let low: UInt64

        init(_ key: String) {
            let hash = SHA256.hash(data: Array(key.utf8))
            (high, low) = hash.withUnsafeBytes { bytes in
                (bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self), bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            }
        }
    }

    struct Window {
        /// Unix time at which the window closes.
        let end: Double
        var count: UInt32
        /// Which queue entry belongs to this window.
        let serial: UInt32
    }

    struct QueueEntry {
        let digest: Digest
        let end: Double
        let serial: UInt32
    }

    struct State {
        var windows: [Digest: Window] = [:]
        /// Windows in the order they end; entries whose window was reset or replaced are
        /// stale and skipped.
        var queue: [QueueEntry] = []
        /// The first entry whose window may still be open.
        var head = 0
        /// The first entry that may still be evicted: every live window before it is
        /// refusing, and a refusing window stays refusing until it ends, so this cursor
        /// only moves forward (each entry is passed once).
        var evictHead = 0
        var serial: UInt32 = 0

        /// When the soonest live window ends. Stale entries met at the front are passed
        /// for good, so repeated calls do not scan them again.
        mutating func soonestEnd() -> Double? {
            while head < queue.count, windows[queue[head].digest]?.serial != queue[head].serial {
                head += 1
            }
            evictHead = max(evictHead, head)
            return head < queue.count ? queue[head].end : nil
        }

        /// Opens a new window for `digest`, first dropping expired windows and, at
        /// capacity, the soonest-ending window that is not refusing. Returns false (and
        /// changes nothing) when every window is refusing.
        mutating func open(_ digest: Digest, until end: Double, at time: Double, capacity: Int, limit: Int) -> Bool {
            while head < queue.count, queue[head].end <= time {
                dropHead()
            }
            windows[digest] = nil
            evictHead = max(evictHead, head)
            while windows.count >= capacity {
                guard evictHead < queue.count else { return false }
                let entry = queue[evictHead]
                evictHead += 1
                guard let window = windows[entry.digest], window.serial == entry.serial, Int(window.count) < limit else { continue }
                windows[entry.digest] = nil
            }
            serial &+= 1
            windows[digest] = Window(end: end, count: 1, serial: serial)
            queue.append(QueueEntry(digest: digest, end: end, serial: serial))
            compact(capacity: capacity)
            return true
        }

        private mutating func dropHead() {
            let entry = queue[head]
            if windows[entry.digest]?.serial == entry.serial {
                windows[entry.digest] = nil
            }
            head += 1
        }

        /// Keeps the queue within twice the capacity: drops the consumed front, and the
        /// stale entries left by resets and evictions.
        private mutating func compact(capacity: Int) {
            if head > 1_024, head * 2 > queue.count {
                queue.removeFirst(head)
                evictHead -= head
                head = 0
            }
            if queue.count - head > 2 * capacity {
                // Live entries keep their order; the eviction cursor keeps its place
                // among them (refusing windows before it stay behind it).
                let live = queue[head...].enumerated().filter { windows[$0.element.digest]?.serial == $0.element.serial }
                evictHead = live.firstIndex { head + $0.offset >= evictHead } ?? live.count
                queue = live.map(\.element)
                head = 0
            }
        }
    }
}
