import Foundation
import Gatehouse
import Logging

/// The feed's cursor into the change table, and the polls that move it: one at a time,
/// shared by everyone waiting.
actor RevocationPoller {
    let store: FluentRevocationStore
    let list: RevocationList
    let logger: Logger
    let now: @Sendable () -> Date

    /// The highest sequence read.
    private var cursor: Int64 = 0
    /// Sequences below the cursor not read yet, with when they were first missed.
    private var gaps: [Int64: ContinuousClock.Instant] = [:]
    /// Polls started and finished; a caller needs one started after it called.
    private var started = 0
    private var finished = 0
    private var current: Task<Void, any Error>?
    /// Evictions already logged.
    private var evictionsLogged = 0

    /// Rows read per statement.
    static let pageSize = 5_000
    /// How long a skipped sequence is waited for.
    static let gapLifetime: Duration = .seconds(60)
    /// Most skipped sequences waited for at once.
    static let maximumGaps = 1_000
    /// Sequences just below the last one at start that are waited for like gaps: their
    /// transactions may still be running.
    static let startLookback: Int64 = 32

    init(store: FluentRevocationStore, list: RevocationList, logger: Logger, now: @escaping @Sendable () -> Date) {
        self.store = store
        self.list = list
        self.logger = logger
        self.now = now
    }

    private func seconds() -> Int { Int(now().timeIntervalSince1970.rounded(.down)) }

    func load() async throws {
        let last = try await store.lastSequence(logger: logger)
        let since = seconds() - list.window
        var after: Int64 = 0
        var seen = Set<Int64>()
        var total = 0
        while true {
            let page = try await store.changes(since: since, after: after, upTo: last, limit: Self.pageSize, logger: logger)
            apply(page)
            total += page.count
            for change in page where change.sequence > last - Self.startLookback { seen.insert(change.sequence) }
            guard page.count == Self.pageSize, let next = page.last?.sequence else { break }
            after = next
        }
        cursor = max(cursor, last)
        let instant = ContinuousClock.now
        for sequence in max(1, last - Self.startLookback + 1)...max(1, last) where last > 0 && !seen.contains(sequence) {
            gaps[sequence] = instant
        }
        logger.info("Revocations loaded", metadata: ["auth.revocations.loaded": "\(total)", "auth.revocations.entries": "\(list.count)"])
    }

    /// Returns once a poll that started after this call has finished.
    func catchUp() async throws {
        let needed = started + 1
        while finished < needed {
            if let current {
                try await current.value
                continue
            }
            started += 1
            let number = started
            let task = Task { try await self.poll(number) }
            current = task
            try await task.value
        }
    }

    private func poll(_ number: Int) async throws {
        do {
            var page: [RevocationChange]
            repeat {
                let instant = ContinuousClock.now
                gaps = gaps.filter { instant - $0.value < Self.gapLifetime }
                page = try await store.changes(after: cursor, orIn: gaps.keys.sorted(), limit: Self.pageSize, logger: logger)
                track(page, at: instant)
                apply(page)
            } while page.count == Self.pageSize
            list.removeExpired(now: seconds())
            finished = max(finished, number)
            current = nil
        } catch {
            current = nil
            throw error
        }
    }

    /// Moves the cursor over `page` (in sequence order), noting the numbers it skipped.
    private func track(_ page: [RevocationChange], at instant: ContinuousClock.Instant) {
        for change in page {
            let sequence = change.sequence
            if sequence <= cursor {
                gaps[sequence] = nil
                continue
            }
            for missing in max(cursor + 1, sequence - Int64(Self.maximumGaps))..<sequence where gaps.count < Self.maximumGaps {
                gaps[missing] = instant
            }
            cursor = sequence
        }
    }

    private func apply(_ changes: [RevocationChange]) {
        guard !changes.isEmpty else { return }
        list.apply(changes, now: seconds())
        let evictions = list.evictions
        if evictions > evictionsLogged {
            logger.error(
                "Revocation list full: evicted entries; their users' earlier tokens are refused until they would have expired",
                metadata: ["auth.revocations.evicted": "\(evictions - evictionsLogged)", "auth.revocations.capacity": "\(list.capacity)"]
            )
            evictionsLogged = evictions
        }
    }
}
