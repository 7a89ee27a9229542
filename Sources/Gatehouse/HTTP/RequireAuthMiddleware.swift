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

    /// `Bearer <token>` (scheme case-insensitive, RFC 6750 §2.1), or `nil`. Spaces around
    /// and between the two words are tolerated; anything after the token is not.
    static func bearerToken(_ header: String?) -> String? {
        guard let header else { return nil }
        let utf8 = header.utf8
        let space = UInt8(ascii: " ")
        guard let schemeStart = utf8.firstIndex(where: { $0 != space }) else { return nil }
        let schemeEnd = utf8[schemeStart...].firstIndex(of: space) ?? utf8.endIndex
        let scheme = utf8[schemeStart..<schemeEnd]
        guard scheme.count == 6, zip(scheme, "bearer".utf8).allSatisfy({ $0 | 0x20 == $1 }),
              let tokenStart = utf8[schemeEnd...].firstIndex(where: { $0 != space })
        else { return nil }
        let tokenEnd = utf8[tokenStart...].firstIndex(of: space) ?? utf8.endIndex
        guard utf8[tokenEnd...].allSatisfy({ $0 == space }) else { return nil }
        return String(Substring(utf8[tokenStart..<tokenEnd]))
    }
}
