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
        guard var header = request.headers[.authorization] else { throw AppError.authenticationRequired }
        // The token is verified where it lies in the header, without copying it out.
        let verified: Result<AccessClaims, TokenError>? = header.withUTF8 { bytes in
            guard let token = Self.bearerToken(bytes) else { return nil }
            return Result { () throws(TokenError) in try verifier.verifyAccess(bytes: token) }
        }
        var context = context
        switch verified {
        case nil: throw AppError.authenticationRequired
        case .success(let claims)?: context.identity = claims
        case .failure(.expired)?: throw AppError.accessTokenExpired
        case .failure?: throw AppError.invalidAccessToken
        }
        return try await next(request, context)
    }

    /// The token of `Bearer <token>` (scheme case-insensitive, RFC 6750 §2.1), or `nil`.
    /// Spaces around and between the two words are tolerated; anything after the token
    /// is not.
    static func bearerToken(_ header: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8>? {
        let space = UInt8(ascii: " ")
        guard let schemeStart = header.firstIndex(where: { $0 != space }) else { return nil }
        let schemeEnd = header[schemeStart...].firstIndex(of: space) ?? header.endIndex
        let scheme = header[schemeStart..<schemeEnd]
        guard scheme.count == 6, zip(scheme, "bearer".utf8).allSatisfy({ $0 | 0x20 == $1 }),
              let tokenStart = header[schemeEnd...].firstIndex(where: { $0 != space })
        else { return nil }
        let tokenEnd = header[tokenStart...].firstIndex(of: space) ?? header.endIndex
        guard header[tokenEnd...].allSatisfy({ $0 == space }) else { return nil }
        return UnsafeBufferPointer(rebasing: header[tokenStart..<tokenEnd])
    }
}
