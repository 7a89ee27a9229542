import Configuration
import FluentKit
import FluentSQLiteDriver
import Gatehouse
import GatehouseFluent
import Hummingbird
import HummingbirdAuth
import Logging
import NIOCore
import NIOPosix

/// The shop's own idea of a signed-in user: built from Gatehouse's verified claims by the
/// authenticator, and role-checked by hummingbird-auth's `RolePolicy`.
struct ShopUser: RoleProviding {
    let id: String
    let roles: Set<String>
}

/// The shop's request context: hummingbird-auth's identity slot holds a `ShopUser`, and
/// Hummingbird's `RemoteAddressRequestContext` gives Gatehouse the client's address.
struct ShopContext: AuthRequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    var identity: ShopUser?
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }
}

/// A small Hummingbird application that embeds Gatehouse: its routes under the shop's
/// own prefix (`/shop/api/auth/…`), its own identity type, one route for anyone with an
/// optional greeting, one for signed-in users and one for admins. No Gatehouse error
/// middleware: Gatehouse's errors render themselves.
struct Shop {
    let auth: AuthService
    let databases: Databases
    /// Keeps the verifier's revocation list current: a logout refuses its tokens at once.
    let revocations: DatabaseRevocationFeed
    let settings: GatehouseConfiguration

    /// Reads Gatehouse's settings from `reader` (the variables of Gatehouse's README) and
    /// opens an in-memory SQLite database with Gatehouse's schema.
    static func open(reader: ConfigReader, logger: Logger) async throws -> Shop {
        let settings = try GatehouseConfiguration(reader: reader)
        let databases = Databases(threadPool: .singleton, on: MultiThreadedEventLoopGroup.singleton)
        databases.use(.sqlite(.memory, sqlLogLevel: nil), as: .sqlite)
        let migrations = Migrations()
        migrations.add(GatehouseMigrations.all)
        let migrator = Migrator(databases: databases, migrations: migrations, logger: logger, on: databases.eventLoopGroup.any())
        try await migrator.setupIfNeeded().get()
        try await migrator.prepareBatch().get()
        let provider = FluentDatabaseProvider(databases: databases)
        let revocations = DatabaseRevocationFeed(
            list: RevocationList(configuration: settings), provider: provider, eventLoopGroup: databases.eventLoopGroup, logger: logger
        )
        try await revocations.load()
        let auth = await AuthService.fluent(configuration: settings, provider: provider, revocations: revocations)
        return Shop(auth: auth, databases: databases, revocations: revocations, settings: settings)
    }

    func router() -> Router<ShopContext> {
        let router = Router(context: ShopContext.self)
        AuthController<ShopContext>(service: auth, configuration: settings, refreshCookiePath: "/shop/api/auth/refresh")
            .addRoutes(to: router.group("shop/api"))

        // Every route below knows who is asking, if anyone is.
        let shop = router.group("shop")
            .add(middleware: GatehouseAuthenticator<ShopContext>(verifier: auth.verifier) { claims in
                ShopUser(id: claims.sub, roles: claims.roles)
            })
        shop.get("greeting") { _, context in
            context.identity.map { "Welcome back, \($0.id)" } ?? "Welcome, stranger"
        }
        shop.group("orders")
            .add(middleware: RequireAuthentication<ShopContext>(verifier: auth.verifier))
            .get { _, context in "Orders of \(try context.requireIdentity().id)" }
        shop.group("admin")
            .add(middleware: RequireAuthentication<ShopContext>(verifier: auth.verifier))
            .add(middleware: AuthorizationPolicyMiddleware(RolePolicy("admin"), deniedError: AppError.forbidden, context: ShopContext.self))
            .get("report") { _, _ in "Sales report" }
        return router
    }

    func application(host: String = "127.0.0.1", port: Int = 8081, logger: Logger) -> some ApplicationProtocol {
        var app = Application(router: router(), configuration: .init(address: .hostname(host, port: port)), logger: logger)
        app.addServices(databases, revocations)
        return app
    }
}

@main
struct ShopExample {
    static func main() async throws {
        let logger = Logger(label: "shop")
        let shop = try await Shop.open(reader: ConfigReader(provider: EnvironmentVariablesProvider()), logger: logger)
        try await shop.application(logger: logger).runService()
    }
}
