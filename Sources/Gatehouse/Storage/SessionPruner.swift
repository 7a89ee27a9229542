import Foundation
import Logging
import ServiceLifecycle

/// Something the pruner empties of expired rows (the database rate limiter's windows).
public protocol PrunableStore: Sendable {
    /// Deletes at most `limit` rows that expired before `cutoff`; how many it deleted.
    func deleteExpired(before cutoff: Date, limit: Int, logger: Logger) async throws -> Int
}

/// Deletes sessions that can never be used again, so the session table does not grow
/// with every login forever, audit events older than their retention, and expired rows
/// of `others`.
///
/// A session is removed once it has been expired or revoked for longer than
/// `retention` (a day by default, long enough to correlate with logs and incident
/// reports). A refresh token of a pruned session is refused exactly like one of a revoked
/// session. Runs every `interval` until graceful shutdown.
public struct SessionPruner: Service {
    let sessions: any SessionRepository
    let audit: (any AuditRepository)?
    let others: [any PrunableStore]
    let interval: Duration
    let retention: TimeInterval
    let auditRetention: TimeInterval
    let logger: Logger
    let now: @Sendable () -> Date

    /// Creates the pruner. With `audit`, events older than `auditRetention` (90 days by
    /// default, `AUDIT_RETENTION`) go too.
    public init(
        sessions: any SessionRepository,
        audit: (any AuditRepository)? = nil,
        others: [any PrunableStore] = [],
        interval: Duration = .seconds(3_600),
        retention: TimeInterval = 86_400,
        auditRetention: TimeInterval = 90 * 86_400,
        logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.sessions = sessions
        self.audit = audit
        self.others = others
        self.interval = interval
        self.retention = retention
        self.auditRetention = auditRetention
        self.logger = logger
        self.now = now
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully {
            await pruneOnce()
            do {
                try await cancelWhenGracefulShutdown { [interval] in try await Task.sleep(for: interval) }
            } catch {
                return
            }
        }
    }

    /// The most rows one statement deletes.
    public static let batchSize = 1_000
    /// The fewest rows one statement deletes while more remain.
    static let minimumBatchSize = 50
    /// How long one batch should hold the database: requests wait behind it (on SQLite
    /// every statement shares one connection). In a table of three million sessions a
    /// batch of 1,000 took 60–70 ms and stalled refreshes as long, so the batch halves
    /// while it takes longer than this and doubles back while it takes under a quarter.
    static let batchTarget: Duration = .milliseconds(10)

    /// One pass, in batches with a pause between them. A failure is logged and retried on
    /// the next pass: pruning is housekeeping and must never take the server down.
    public func pruneOnce() async {
        let sessions = self.sessions
        let total = await prune("sessions", olderThan: now().addingTimeInterval(-retention)) { cutoff, limit, logger in
            try await sessions.deleteInactive(before: cutoff, limit: limit, logger: logger)
        }
        logger.debug("Pruned inactive sessions", metadata: ["auth.sessions.deleted": "\(total)"])
        if let audit {
            let events = await prune("audit events", olderThan: now().addingTimeInterval(-auditRetention)) { cutoff, limit, logger in
                try await audit.deleteOlder(than: cutoff, limit: limit, logger: logger)
            }
            logger.debug("Pruned audit events", metadata: ["auth.audit.deleted": "\(events)"])
        }
        for store in others {
            let rows = await prune("expired rows", olderThan: now()) { cutoff, limit, logger in
                try await store.deleteExpired(before: cutoff, limit: limit, logger: logger)
            }
            logger.debug("Pruned expired rows", metadata: ["auth.pruned": "\(rows)"])
        }
    }

    /// Deletes in batches, sized by time, with a pause between them; how many it deleted.
    private func prune(
        _ what: String, olderThan cutoff: Date, _ delete: (Date, Int, Logger) async throws -> Int
    ) async -> Int {
        var total = 0
        var limit = Self.batchSize
        let clock = ContinuousClock()
        do {
            while !Task.isShuttingDownGracefully {
                let started = clock.now
                let deleted = try await delete(cutoff, limit, logger)
                let took = clock.now - started
                total += deleted
                guard deleted == limit else { break }
                if took > Self.batchTarget {
                    limit = max(Self.minimumBatchSize, limit / 2)
                } else if took < Self.batchTarget / 4 {
                    limit = min(Self.batchSize, limit * 2)
                }
                try await Task.sleep(for: .milliseconds(5))
            }
        } catch is CancellationError {
            // Shutting down between batches: the next start goes on where this one stopped.
        } catch {
            logger.warning("Pruning \(what) failed", metadata: ["error.type": "\(type(of: error))", "auth.pruned": "\(total)"])
        }
        return total
    }
}
