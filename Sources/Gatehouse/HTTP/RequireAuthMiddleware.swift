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
        var authorization: HTTPField?
        for field in request.headers where field.name == .authorization {
            // Two Authorization fields are not one credential.
            guard authorization == nil else { throw AppError.authenticationRequired }
            authorization = field
        }
        guard let authorization else { throw AppError.authenticationRequired }
        // The token is verified where it lies in the field's bytes, without copying it out.
        let verified: Result<AccessClaims, TokenError>? = authorization.withUnsafeBytesOfValue { bytes in
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
        var index = 0
        while index < header.count, header[index] == space { index += 1 }
        // "bearer" in any case (`| 0x20` lower-cases letters and changes no other byte into
        // one), then at least one space.
        guard header.count - index > 6, header[index + 6] == space else { return nil }
        for letter in "bearer".utf8 {
            guard header[index] | 0x20 == letter else { return nil }
            index += 1
        }
        while index < header.count, header[index] == space { index += 1 }
        let start = index
        while index < header.count, header[index] != space { index += 1 }
        let end = index
        while index < header.count, header[index] == space { index += 1 }
        guard end > start, index == header.count else { return nil }
        return UnsafeBufferPointer(rebasing: header[start..<end])
    }
}
