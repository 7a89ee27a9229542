import Hummingbird
import HummingbirdAuth

/// Confirms in the database that the admin a token names is still one, with a current
/// token (`AuthService.requireCurrentAdmin`): the role policy trusts the claims alone,
/// and the admin routes can do too much to let a demoted admin act until the token
/// expires. One read per admin request.
struct CurrentAdminMiddleware<Context: AuthRequestContext>: RouterMiddleware where Context.Identity == AccessClaims {
    let service: AuthService

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try await service.requireCurrentAdmin(try context.requireIdentity(), logger: context.logger)
        return try await next(request, context)
    }
}
