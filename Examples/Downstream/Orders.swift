import Foundation
import GatehouseVerifier
import Hummingbird
import HummingbirdAuth
import Logging

/// A downstream service — an orders API — that trusts Gatehouse access tokens without
/// holding any Gatehouse secret: it verifies them with the public keys Gatehouse
/// publishes (README "Verifying tokens in other services"). It depends on
/// GatehouseVerifier, Hummingbird and hummingbird-auth only.
///
/// Environment: `GATEHOUSE_JWKS_URL` (required), `GATEHOUSE_ISSUER` (default
/// `gatehouse`), `GATEHOUSE_AUDIENCE`, `PORT` (default 8082), and
/// `JWKS_MIN_REFETCH_SECONDS` (default 30; the tests make it short).
///
/// The service's own identity type, made from the verified claims: role checks go through
/// hummingbird-auth's `RolePolicy`.
struct Customer: RoleProviding, Sendable {
    let id: String
    let role: String
    var roles: Set<String> { [role] }
}

struct OrdersResponse: ResponseEncodable {
    let customer: String
    let role: String
    let orders: [String]
}

struct ReportResponse: ResponseEncodable {
    let orders: Int
}

@main
struct Orders {
    static func application(keys: GatehouseKeySet, host: String = "127.0.0.1", port: Int, logger: Logger) -> some ApplicationProtocol {
        let router = Router(context: BasicAuthRequestContext<Customer>.self)
        router.get("health") { _, _ in "ok" }
        let orders = router.group("orders")
            .add(middleware: GatehouseTokenAuthenticator(keys: keys) { claims in Customer(id: claims.sub, role: claims.role.rawValue) })
            .add(middleware: RequireGatehouseToken(keys: keys))
        orders.get("mine") { _, context in
            let customer = try context.requireIdentity()
            return OrdersResponse(customer: customer.id, role: customer.role, orders: ["order-1", "order-2"])
        }
        orders.group("report")
            .add(middleware: AuthorizationPolicyMiddleware(RolePolicy<Customer>("admin"), context: BasicAuthRequestContext<Customer>.self))
            .get { _, _ in ReportResponse(orders: 2) }
        return Application(router: router, configuration: .init(address: .hostname(host, port: port)), logger: logger)
    }

    static func main() async throws {
        let environment = ProcessInfo.processInfo.environment
        var logger = Logger(label: "orders")
        logger.logLevel = .info
        guard let url = environment["GATEHOUSE_JWKS_URL"] else {
            FileHandle.standardError.write(Data("orders: GATEHOUSE_JWKS_URL is required\n".utf8))
            exit(2)
        }
        var configuration = GatehouseKeySet.Configuration(
            jwksURL: url, issuer: environment["GATEHOUSE_ISSUER"] ?? "gatehouse", audience: environment["GATEHOUSE_AUDIENCE"]
        )
        if let seconds = environment["JWKS_MIN_REFETCH_SECONDS"].flatMap(Double.init), seconds >= 0 {
            configuration.minimumRefetchInterval = .milliseconds(Int(seconds * 1_000))
        }
        let keys = GatehouseKeySet(configuration: configuration, logger: logger)
        if await !keys.load() {
            logger.warning("Gatehouse's keys could not be fetched yet; every token is refused until they are")
        }
        let port = environment["PORT"].flatMap(Int.init) ?? 8082
        try await application(keys: keys, port: port, logger: logger).runService()
    }
}
