import FluentKit
import Foundation
import Gatehouse
import GatehouseFluent
import Hummingbird
import Logging

/// Health answer: `{"status":"ok"}`.
struct HealthResponse: ResponseEncodable {
    let status: String
}

/// The composition root: database, keys, services and router, as one application.
/// `gatehouse serve` runs it; tests call it with a configuration of their own.
///
/// - Parameters:
///   - configuration: the server configuration.
///   - logger: the logger to use (tests capture logs through it).
///   - now: the clock for tokens and sessions (tests move it instead of sleeping).
///   - onServerRunning: called once the server listens.
///   - servedRoutes: given the routes the router serves, as `METHOD /path/{param}`
///     (tests compare them with the OpenAPI document).
func buildApplication(
    _ configuration: ServerConfiguration,
    logger: Logger? = nil,
    now: @escaping @Sendable () -> Date = { Date() },
    onServerRunning: @escaping @Sendable () async -> Void = {},
    servedRoutes: ([String]) -> Void = { _ in }
) async throws -> some ApplicationProtocol {
    var logger = logger ?? Logger(label: "gatehouse")
    logger.logLevel = configuration.logLevel

    let serving = try await configuration.openServingDatabase(logger: logger)
    let databases = serving.databases
    let settings = configuration.gatehouse
    let limiters: RateLimiters? = switch configuration.rateLimitStore {
    case .memory: nil
    case .database: .database(settings.rateLimits, provider: serving.provider)
    }
    // Revocations known before the first request is answered (SPEC.md §3.6).
    let revocations = DatabaseRevocationFeed(
        list: RevocationList(configuration: settings, capacity: configuration.revocationCapacity),
        provider: serving.provider, pollInterval: configuration.revocationPollInterval, listener: serving.postgres,
        eventLoopGroup: databases.eventLoopGroup, logger: logger, now: now
    )
    do {
        try await revocations.load()
    } catch {
        await serving.provider.close()
        await databases.shutdownAsync()
        throw error
    }
    let service = await AuthService.fluent(
        configuration: settings, provider: serving.provider, limiters: limiters, revocations: revocations, now: now
    )

    let router = Router(context: GatehouseContext.self)
    let controller = AuthController<GatehouseContext>(service: service, configuration: settings)
    var routes = RouteTable()
    routes.add(.get, "/health")
    routes.add(.get, "/health/ready")
    if configuration.metrics { routes.add(.get, "/metrics") }
    routes.add(.get, "/api/v1/openapi.json")
    if configuration.accountPage { AccountPage.record(in: &routes) }
    controller.record(in: &routes, basePath: "/api/v1")
    let admin = AdminController<GatehouseContext>(service: service, configuration: settings)
    admin.record(in: &routes, basePath: "/api/v1/admin")
    let keys = KeysController<GatehouseContext>(configuration: settings)
    keys.record(in: &routes)
    // The request log outermost: every answer, CORS and errors included, gets its line
    // and its X-Request-Id. Then CORS, so that the error middleware's responses carry its
    // headers too.
    // With Gatehouse's own log handler (`gatehouse serve`), it writes the request lines
    // straight from their fields; with any other (a test's, an embedder's), through Logger.
    router.add(middleware: RequestLogMiddleware<GatehouseContext>(configuration: settings, lineWriter: logger.handler as? LineLogHandler))
    // Requests by method, route template and status, with their latency (Hummingbird's
    // series, by a cheaper middleware), outside CORS and errors so it counts the final status.
    if configuration.metrics {
        _ = PrometheusExport.registry
        router.add(middleware: RequestMetricsMiddleware<GatehouseContext>())
    }
    router.add(middleware: CORSAllowlistMiddleware(origins: configuration.corsOrigins, routes: routes))
    router.add(middleware: GatehouseErrorMiddleware(routes: routes, unavailable: DatabaseFailure.isUnavailable))
    // Liveness: the process answers. Readiness: and its database does too.
    router.get("health") { _, _ in HealthResponse(status: "ok") }
    if configuration.metrics {
        router.get("metrics") { _, _ in PrometheusExport.response() }
    }
    let timeout = configuration.databaseTimeout
    router.get("health/ready") { _, context in
        try await DatabaseFailure.ping(databases, timeout: timeout, logger: context.logger)
        return HealthResponse(status: "ok")
    }
    if configuration.accountPage { AccountPage.addRoutes(to: router) }
    let openAPI = OpenAPIDocument.json(metrics: configuration.metrics, accountPage: configuration.accountPage)
    router.get("api/v1/openapi.json") { _, _ in Response.json(bytes: openAPI) }
    controller.addRoutes(to: router.group("api/v1"))
    admin.addRoutes(to: router.group("api/v1"), path: "admin")
    keys.addRoutes(to: router)
    servedRoutes(router.routes.map(\.description))

    var app = Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
        onServerRunning: { _ in await onServerRunning() },
        logger: logger
    )
    // Services stop in reverse order: the HTTP server drains, the pruner and the
    // revocation feed stop, the repositories' connection closes, and the database goes last.
    let pruner = SessionPruner(
        sessions: FluentSessionRepository(provider: serving.provider), audit: FluentAuditRepository(provider: serving.provider),
        others: [revocations.store] + (configuration.rateLimitStore == .database ? [DatabaseRateLimiter.store(provider: serving.provider)] : []),
        auditRetention: TimeInterval(configuration.auditRetention), logger: logger, now: now
    )
    app.addServices(databases, serving, revocations, pruner)
    return app
}
