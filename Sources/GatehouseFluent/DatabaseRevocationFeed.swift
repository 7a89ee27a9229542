import FluentKit
import FluentPostgresDriver
import Foundation
import Gatehouse
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// Keeps an instance's `RevocationList` current with the change table (SPEC.md §3.6), so
/// a change made by any instance of a fleet, or by `gatehouse users` in another process,
/// is refused everywhere within a second, with no database read per request.
///
/// - `load()` (before the instance answers) reads the changes of the last access-token
///   window.
/// - Every `pollInterval` (500 ms) one indexed range query reads the rows after the
///   cursor. It is the guarantee: a lost notification or a dead listener only delays a
///   change until the next poll. On SQLite polling is all there is, and enough for two
///   processes on one file.
/// - On PostgreSQL a connection of its own `LISTEN`s to `gatehouse_revocations` (the change
///   table's trigger notifies on every insert), and each notification polls at once:
///   changes arrive in milliseconds. A dropped listener reconnects by itself (100 ms, then
///   doubling to 5 s) and polls as soon as it listens again, which brings in what changed
///   meanwhile; polling went on throughout.
/// - `catchUp()` polls now and returns once everything committed before the call is in
///   the list: the instance that made a change refuses its tokens before it answers.
///
/// Sequences are handed out when a row is inserted but become visible at commit, so on
/// PostgreSQL a lower number can appear after a higher one. Numbers skipped over are kept
/// as gaps and asked for by number on every poll for a minute (a change's transaction
/// lasts milliseconds); SQLite writes one transaction at a time and has none.
public final class DatabaseRevocationFeed: RevocationFeed, Service {
    public let list: RevocationList
    /// The change table (the pruner deletes its old rows).
    public let store: FluentRevocationStore
    let poller: RevocationPoller
    let pollInterval: Duration
    let listener: PostgresConnection.Configuration?
    let eventLoopGroup: any EventLoopGroup
    let logger: Logger
    let wake: AsyncStream<Void>
    let wakeUp: AsyncStream<Void>.Continuation
    /// Whether the listener is connected and listening now (tests watch it).
    let listening = Atomic<Bool>(false)

    /// The PostgreSQL channel the change table's trigger notifies.
    public static let channel = "gatehouse_revocations"
    /// The listener connection's `application_name` (`gatehouse serve` adds `:schema`
    /// when `DATABASE_URL` names one).
    public static let listenerApplicationName = "gatehouse-revocations"

    /// A feed of `provider`'s change table into `list`. `listener` is the PostgreSQL
    /// connection configuration to `LISTEN` with (`nil`: poll only, as on SQLite); `now`
    /// is the clock of the tokens (the list expires entries by it).
    public init(
        list: RevocationList,
        provider: FluentDatabaseProvider,
        pollInterval: Duration = .milliseconds(500),
        listener: PostgresConnection.Configuration? = nil,
        eventLoopGroup: any EventLoopGroup,
        logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.list = list
        self.store = FluentRevocationStore(provider: provider, window: list.window)
        self.poller = RevocationPoller(store: store, list: list, logger: logger, now: now)
        self.pollInterval = pollInterval
        if var listener {
            if !listener.options.additionalStartupParameters.contains(where: { $0.0 == "application_name" }) {
                listener.options.additionalStartupParameters.append(("application_name", Self.listenerApplicationName))
            }
            self.listener = listener
        } else {
            self.listener = nil
        }
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        (wake, wakeUp) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Loads the changes of the last access-token window. Call it before the instance
    /// answers requests.
    public func load() async throws {
        try await poller.load()
    }

    public func catchUp(logger: Logger) async throws {
        try await poller.catchUp()
    }

    /// Whether the PostgreSQL listener is listening now.
    public var isListening: Bool { listening.load(ordering: .relaxed) }

    /// Polls every `pollInterval` and, on PostgreSQL, listens, until graceful shutdown.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.pollPeriodically() }
                group.addTask { await self.pollWhenWoken() }
                if let listener = self.listener {
                    group.addTask { await self.listen(listener) }
                }
            }
        }
        wakeUp.finish()
    }

    private func pollPeriodically() async {
        var failing = false
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: pollInterval)
            } catch {
                return
            }
            do {
                try await poller.catchUp()
                if failing {
                    logger.info("Revocation polling recovered")
                    failing = false
                }
            } catch {
                // Logged once per outage, not every half second.
                if !failing, !Task.isCancelled {
                    logger.warning("Revocation polling failed; retrying", metadata: ["error.type": "\(type(of: error))"])
                    failing = true
                }
            }
        }
    }

    private func pollWhenWoken() async {
        for await _ in wake {
            try? await poller.catchUp()
        }
    }

    /// Listens on a connection of its own, reconnecting after any failure.
    private func listen(_ configuration: PostgresConnection.Configuration) async {
        var delay = Duration.milliseconds(100)
        var connectedBefore = false
        while !Task.isCancelled {
            do {
                let connection = try await PostgresConnection.connect(
                    on: eventLoopGroup.any(), configuration: configuration, id: 0, logger: FluentDatabaseProvider.quiet(logger)
                )
                // Closed on every way out (a connection dropped unclosed traps in PostgresNIO's
                // debug builds).
                do {
                    try await withTaskCancellationHandler {
                        try await connection.listen(on: Self.channel) { notifications in
                            listening.store(true, ordering: .relaxed)
                            if connectedBefore { logger.info("Revocation listener reconnected") }
                            connectedBefore = true
                            delay = .milliseconds(100)
                            // Whatever changed while nobody listened.
                            wakeUp.yield()
                            for try await _ in notifications { wakeUp.yield() }
                        }
                    } onCancel: {
                        _ = connection.close() as EventLoopFuture<Void>
                    }
                } catch {
                    try? await connection.close()
                    throw error
                }
                listening.store(false, ordering: .relaxed)
                try? await connection.close()
            } catch {
                listening.store(false, ordering: .relaxed)
                if Task.isCancelled { return }
                logger.warning(
                    "Revocation listener lost; polling continues, reconnecting",
                    metadata: ["error.type": "\(type(of: error))", "retry.delay": "\(delay)"]
                )
            }
            do {
                try await Task.sleep(for: delay)
            } catch {
                return
            }
            delay = min(delay * 2, .seconds(5))
        }
    }
}
