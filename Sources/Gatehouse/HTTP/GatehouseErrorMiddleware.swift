import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// Renders every error as `{"status":"error","message":…}` and adds the headers every
/// response must carry (SPEC.md §3).
///
/// - `AppError`: its status, message, field errors and headers (as it renders itself;
///   this middleware stays for what only it can do: 405s with `Allow`, 503 for a
///   dependency that is down, hiding the detail of 500s, `nosniff` on every response).
/// - Hummingbird's HTTP errors (404, 413, …): their status with a fixed message; a 404 for
///   a known path with another method becomes 405 with `Allow`; hummingbird-auth's bare
///   401 and 403 become `Authentication required` and `Forbidden`.
/// - Errors the `unavailable` classifier recognises (a database that cannot be reached):
///   503 `Service unavailable`.
/// - Anything else: 500 `Internal server error`; the detail goes to the log only.
///
/// Every 401 carries `WWW-Authenticate: Bearer`; every response carries
/// `X-Content-Type-Options: nosniff`. Add it to the router before any route.
public struct GatehouseErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let routes: RouteTable
    let unavailable: @Sendable (any Error) -> Bool

    /// Creates the middleware; `routes` lists what the application serves, for 405s, and
    /// `unavailable` says which errors mean a dependency is down (503, not 500).
    public init(routes: RouteTable = RouteTable(), unavailable: @escaping @Sendable (any Error) -> Bool = { _ in false }) {
        self.routes = routes
        self.unavailable = unavailable
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            response = self.response(for: appError(for: error, request: request, context: context))
        }
        response.headers[.xContentTypeOptions] = "nosniff"
        return response
    }

    func appError(for error: any Error, request: Request, context: Context) -> AppError {
        switch error {
        case let error as AppError:
            return error
        case is NIOTooManyBytesError:
            return .bodyTooLarge
        case let error as any HTTPResponseError:
            switch error.status {
            case .notFound:
                let allowed = routes.allowedMethods(for: request.uri.path)
                guard !allowed.isEmpty else { return .notFound }
                let allow = allowed.map(\.rawValue).joined(separator: ", ")
                return AppError(.methodNotAllowed, "Method not allowed", headers: [.allow: allow])
            case .contentTooLarge:
                return .bodyTooLarge
            case .unauthorized where (error as? HTTPError)?.headers.isEmpty == true:
                // hummingbird-auth's bare 401 (`IsAuthenticatedMiddleware`, policies);
                // another scheme's challenge (`Basic realm=…`) keeps its headers below.
                return .authenticationRequired
            case .forbidden where (error as? HTTPError)?.headers.isEmpty == true:
                return .forbidden
            case let status where status.code >= 500:
                context.logger.error("Request failed", metadata: ["error.type": "\(type(of: error))"])
                return .internalError
            case let status:
                return AppError(status, status.reasonPhrase, headers: (error as? HTTPError)?.headers ?? [:])
            }
        case let error where unavailable(error):
            context.logger.warning("Dependency unavailable", metadata: ["error.type": "\(type(of: error))"])
            AuthMetrics.databaseUnavailable()
            return .serviceUnavailable
        default:
            // Internal detail stays in the log; the client sees a generic message.
            context.logger.error(
                "Unhandled error",
                metadata: ["error.type": "\(type(of: error))", "error.message": "\(String(describing: error))"]
            )
            return .internalError
        }
    }

    func response(for error: AppError) -> Response {
        error.response
    }
}

extension HTTPField.Name {
    static var xContentTypeOptions: Self { .init("X-Content-Type-Options")! }
}
