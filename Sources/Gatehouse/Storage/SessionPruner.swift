import Foundation
import Logging
import ServiceLifecycle

/// Deletes sessions that can never be used again, so the session table does not grow
/// with every login forever.
///
/// A session is removed once it has been expired or revoked for longer than
/// `retention` (a day by default, long enough to correlate with logs and incident
/// reports). A refresh token of a pruned session is refused exactly like one of a revoked
/// session. Runs every `interval` until graceful shutdown.
public struct SessionPruner: Service {
    let sessions: any SessionRepository
    let interval: Duration
    let retention: TimeInterval
    let logger: Logger
    let now: @Sendable () -> Date

    /// Creates the pruner.
    public init(
        sessions: any SessionRepository,
        interval: Duration = .seconds(3_600),
        retention: TimeInterval = 86_400,
        logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.sessions = sessions
        self.interval = interval
        self.retention = retention
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

    /// Rows deleted per statement: small enough that one batch holds the database for a
    /// few milliseconds, so requests interleave with a large prune.
    public static let batchSize = 1_000

    /// One pass, in batches with a pause between them. A failure is logged and retried on
    /// the next pass: pruning is housekeeping and must never take the server down.
    public func pruneOnce() async {
        let cutoff = now().addingTimeInterval(-retention)
        var total = 0
        do {
            while !Task.isShuttingDownGracefully {
                let deleted = try await sessions.deleteInactive(before: cutoff, limit: Self.batchSize, logger: logger)
                total += deleted
                guard deleted == Self.batchSize else { break }
                try await Task.sleep(for: .milliseconds(5))
            }
            logger.debug("Pruned inactive sessions", metadata: ["auth.sessions.deleted": "\(total)"])
        } catch is CancellationError {
            // Shutting down between batches: the next start goes on where this one stopped.
        } catch {
            logger.warning("Session pruning failed", metadata: ["error.type": "\(type(of: error))", "auth.sessions.deleted": "\(total)"])
        }
    }
}
