import GatehouseJWT
import HTTPTypes
import Hummingbird
import HummingbirdAuth

/// hummingbird-auth's authenticator for Gatehouse access tokens in a downstream service:
/// verifies the Bearer token against Gatehouse's published keys and puts an identity in
/// `context.identity` — the verified `AccessClaims`, or your own type made from them.
///
/// Like Gatehouse's own `GatehouseAuthenticator`, it only authenticates: a request
/// without a valid token goes on anonymous. `RequireGatehouseToken` (or hummingbird-auth's
/// `IsAuthenticatedMiddleware`) requires an identity; `AuthorizationPolicyMiddleware`
/// with a `RolePolicy` checks roles when your identity is `RoleProviding`.
///
/// ```swift
/// let keys = GatehouseKeySet(configuration: .init(jwksURL: "https://auth.example.com/.well-known/jwks.json"))
/// let orders = router.group("orders")
///     .add(middleware: GatehouseTokenAuthenticator(keys: keys) { claims in Customer(claims) })
///     .add(middleware: RequireGatehouseToken(keys: keys))
/// ```
public struct GatehouseTokenAuthenticator<Context: AuthRequestContext>: AuthenticatorMiddleware {
    public typealias Identity = Context.Identity

    let keys: GatehouseKeySet
    let identity: @Sendable (AccessClaims, Request, Context) async throws -> Identity?

    /// Authenticates with the verified claims as the identity.
    public init(keys: GatehouseKeySet) where Context.Identity == AccessClaims {
        self.keys = keys
        self.identity = { claims, _, _ in claims }
    }

    /// Authenticates with the identity `identity` makes of the verified claims; `nil`
    /// leaves the request anonymous.
    public init(keys: GatehouseKeySet, identity: @escaping @Sendable (AccessClaims) async throws -> Identity?) {
        self.keys = keys
        self.identity = { claims, _, _ in try await identity(claims) }
    }

    public func authenticate(request: Request, context: Context) async throws -> Identity? {
        guard case .token(let token) = BearerToken(request.headers), let claims = try? await keys.verify(token) else { return nil }
        return try await identity(claims, request, context)
    }
}

/// Requires an identity put there by an authenticator; without one, answers 401 in
/// Gatehouse's error shape with `WWW-Authenticate: Bearer` and Gatehouse's messages (SPEC.md
/// §3.2): `Authentication required` (no or malformed `Authorization`), `Access token
/// expired`, or `Invalid access token` (anything else, a valid token whose identity
/// mapping found nobody included). The token is looked at again only on that path.
public struct RequireGatehouseToken<Context: AuthRequestContext>: RouterMiddleware {
    let keys: GatehouseKeySet

    /// Creates the middleware; `keys` names the reason of a refusal.
    public init(keys: GatehouseKeySet) {
        self.keys = keys
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if context.identity != nil { return try await next(request, context) }
        let message: String
        switch BearerToken(request.headers) {
        case .none: message = "Authentication required"
        case .token(let token):
            do {
                _ = try await keys.verify(token)
                message = "Invalid access token"
            } catch {
                message = error == .expired ? "Access token expired" : "Invalid access token"
            }
        }
        let body = #"{"message":"\#(message)","status":"error"}"#
        return Response(
            status: .unauthorized,
            headers: [.contentType: "application/json; charset=utf-8", .wwwAuthenticate: "Bearer", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: body))
        )
    }
}

/// The request's Bearer token, read as Gatehouse reads it (`BearerCredential`).
enum BearerToken {
    case token(String)
    /// No `Authorization` field, two of them, another scheme, or a malformed one.
    case none

    init(_ headers: HTTPFields) {
        var found: HTTPField?
        for field in headers where field.name == .authorization {
            guard found == nil else {
                self = .none
                return
            }
            found = field
        }
        guard let found else {
            self = .none
            return
        }
        let token: String? = found.withUnsafeBytesOfValue { bytes in
            guard case .token(let token) = BearerCredential.parse(bytes) else { return nil }
            return String(decoding: token, as: UTF8.self)
        }
        self = token.map(BearerToken.token) ?? .none
    }
}
