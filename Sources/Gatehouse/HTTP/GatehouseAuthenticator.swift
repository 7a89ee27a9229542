import HTTPTypes
import Hummingbird
import HummingbirdAuth

/// hummingbird-auth's authenticator for Gatehouse access tokens: verifies the Bearer
/// token and puts an identity in `context.identity`.
///
/// The identity is the verified `AccessClaims` by default, or whatever the `identity`
/// closure makes of them (your own `User`, loaded or built from the claims). The
/// authenticator only authenticates: a request without a valid Bearer token goes on
/// anonymous, so a route can serve both, and the authenticator can sit in front of
/// routes that must ignore a stale token (Gatehouse's own login, register and refresh:
/// a client that always attaches its expired access token must still be able to
/// refresh it). Requiring an identity is `RequireAuthentication`, which answers with the
/// precise 401 of SPEC.md §3.2 (`Access token expired`, `Invalid access token`,
/// `Authentication required`); hummingbird-auth's `IsAuthenticatedMiddleware` works
/// too, with a plain 401.
///
/// The token is verified where it lies in the field's bytes, synchronously: no copy of
/// the token, no actor hop.
public struct GatehouseAuthenticator<Context: AuthRequestContext>: AuthenticatorMiddleware {
    public typealias Identity = Context.Identity

    let verifier: TokenVerifier
    let identity: @Sendable (AccessClaims, Request, Context) async throws -> Identity?

    /// Authenticates with the verified claims as the identity.
    public init(verifier: TokenVerifier) where Context.Identity == AccessClaims {
        self.verifier = verifier
        self.identity = { claims, _, _ in claims }
    }

    /// Authenticates with the identity `identity` makes of the verified claims; `nil`
    /// (no such user any more) leaves the request anonymous, and `RequireAuthentication`
    /// refuses it as `Invalid access token`.
    public init(verifier: TokenVerifier, identity: @escaping @Sendable (AccessClaims, Request, Context) async throws -> Identity?) {
        self.verifier = verifier
        self.identity = identity
    }

    /// Authenticates with the identity `identity` makes of the verified claims.
    public init(verifier: TokenVerifier, identity: @escaping @Sendable (AccessClaims) async throws -> Identity?) {
        self.init(verifier: verifier) { claims, _, _ in try await identity(claims) }
    }

    public func authenticate(request: Request, context: Context) async throws -> Identity? {
        // A bad credential is not an identity; why it is bad is `RequireAuthentication`'s
        // to say, where an identity is required.
        guard let claims = try? verifier.bearerClaims(in: request.headers) else { return nil }
        return try await identity(claims, request, context)
    }
}

/// Requires an identity put there by an authenticator. Without one it answers the 401 of
/// SPEC.md §3.2 for what the request carried: no or malformed `Authorization` →
/// `Authentication required`, an expired token → `Access token expired`, a revoked one
/// (§3.6) → `Access token revoked`, anything else
/// (including a valid token whose identity mapping found nobody) → `Invalid access
/// token`; with `WWW-Authenticate: Bearer`, in Gatehouse's error shape (it renders
/// itself, with or without `GatehouseErrorMiddleware`). The token is only looked at
/// again on that failure path.
public struct RequireAuthentication<Context: AuthRequestContext>: RouterMiddleware {
    let verifier: TokenVerifier

    /// Creates the middleware; `verifier` names the reason of a refusal.
    public init(verifier: TokenVerifier) {
        self.verifier = verifier
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard context.identity != nil else {
            _ = try verifier.requireBearerClaims(in: request.headers)
            throw AppError.invalidAccessToken
        }
        return try await next(request, context)
    }
}

extension TokenVerifier {
    /// The verified claims of the request's Bearer token; `nil` when the request has no
    /// `Authorization` field or one of another scheme. Throws the §3.2 401s for a
    /// Bearer credential that is malformed, expired or invalid, and for two fields.
    public func bearerClaims(in headers: HTTPFields) throws(AppError) -> AccessClaims? {
        var authorization: HTTPField?
        for field in headers where field.name == .authorization {
            // Two Authorization fields are not one credential.
            guard authorization == nil else { throw .authenticationRequired }
            authorization = field
        }
        guard let authorization else { return nil }
        let verified: Result<AccessClaims, TokenError>?? = authorization.withUnsafeBytesOfValue { bytes in
            switch BearerCredential.parse(bytes) {
            case .otherScheme: return .some(nil)
            case .malformed: return nil
            case .token(let token): return .some(Result { () throws(TokenError) in try verifyAccess(bytes: token) })
            }
        }
        switch verified {
        case nil: throw .authenticationRequired
        case .some(nil): return nil
        case .some(.success(let claims)?):
            RequestLogNotes.note(userID: claims.sub)
            return claims
        case .some(.failure(.expired)?): throw .accessTokenExpired
        case .some(.failure(.revoked)?): throw .accessTokenRevoked
        case .some(.failure?): throw .invalidAccessToken
        }
    }

    /// The verified claims of the request's Bearer token, or the §3.2 401.
    public func requireBearerClaims(in headers: HTTPFields) throws(AppError) -> AccessClaims {
        guard let claims = try bearerClaims(in: headers) else { throw .authenticationRequired }
        return claims
    }
}
