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

    /// One pass. A failure is logged and retried on the next pass: pruning is housekeeping
    /// and must never take the server down.
    public func pruneOnce() async {
        do {
            try await sessions.deleteInactive(before: now().addingTimeInterval(-retention), logger: logger)
            logger.debug("Pruned inactive sessions")
        } catch {
            logger.warning("Session pruning failed", metadata: ["error.type": "\(type(of: error))"])
        }
    }
}
