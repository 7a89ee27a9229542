import HTTPTypes
import Hummingbird

/// `GET /.well-known/jwks.json` (SPEC.md §3.7): every public key access tokens are
/// verified with, as a JWK Set, cacheable for five minutes. Public parameters only;
/// never a private parameter or a secret. Empty (`{"keys":[]}`) under HS256 without
/// previous public keys. The body is made once, when the controller is.
public struct KeysController<Context: RequestContext>: Sendable {
    let body: [UInt8]

    /// How long clients may cache the key set; rotation waits this long between
    /// publishing a key and signing with it (README "Rotating keys").
    public static var maxAge: Int { 300 }

    /// Creates the controller for the keys of `configuration`.
    public init(configuration: GatehouseConfiguration) {
        self.body = SigningKeys(configuration: configuration).jwks
    }

    var endpoints: [Endpoint<Context>] {
        [Endpoint(.get, ".well-known/jwks.json", jwks)]
    }

    /// Adds the route to a router (at its root: the path is a well-known URI, RFC 8615).
    public func addRoutes(to router: some RouterMethods<Context>) {
        endpoints.add(to: router)
    }

    /// Records the route, mounted at `basePath`, in a table for 405 answers.
    public func record(in table: inout RouteTable, basePath: String = "") {
        endpoints.record(in: &table, basePath: basePath)
    }

    @Sendable func jwks(_ request: Request, context: Context) async throws -> Response {
        .json(bytes: body, headers: [.cacheControl: "public, max-age=\(Self.maxAge)"])
    }
}
