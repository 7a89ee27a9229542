import HTTPTypes
import Hummingbird
import HummingbirdAuth

/// Guards routes with a Bearer access token and puts the verified claims in
/// `context.identity`.
///
/// No or malformed `Authorization` → 401 `Authentication required`; expired →
/// `Access token expired`; anything else → `Invalid access token`.
public struct RequireAuthMiddleware<Context: GatehouseRequestContext>: RouterMiddleware {
    let verifier: TokenVerifier

    /// Creates the middleware.
    public init(verifier: TokenVerifier) {
        self.verifier = verifier
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let token = Self.bearerToken(request.headers[.authorization]) else {
            throw AppError.authenticationRequired
        }
        var context = context
        do {
            context.identity = try await verifier.verifyAccess(token)
        } catch .expired {
            throw AppError.accessTokenExpired
        } catch {
            throw AppError.invalidAccessToken
        }
        return try await next(request, context)
    }

    /// `Bearer <token>` (scheme case-insensitive, RFC 6750 §2.1), or `nil`.
    static func bearerToken(_ header: String?) -> String? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return String(parts[1])
    }
}
