import HTTPTypes
import Hummingbird

/// Cross-origin access for an exact list of origins, with credentials (SPEC.md §1
/// `CORS_ORIGINS`).
///
/// - A listed `Origin` gets `Access-Control-Allow-Origin: <that origin>`,
///   `Access-Control-Allow-Credentials: true` and `Access-Control-Expose-Headers` on
///   every response, errors included.
/// - A preflight (`OPTIONS` with `Access-Control-Request-Method`) for a path in `routes`
///   is answered here: 204 with the methods served at that path, `Authorization` and
///   `Content-Type` as allowed headers, and a ten-minute `Access-Control-Max-Age`. A
///   preflight from an origin not listed is 403 `Origin not allowed`, without CORS headers.
/// - Any other origin, or no origin, gets no CORS headers at all.
/// - While the list is not empty every response carries `Vary: Origin`, so a shared
///   cache never hands one origin's answer to another.
/// - An empty list turns the middleware off entirely.
///
/// Add it before `GatehouseErrorMiddleware`, so that error responses carry the headers too.
public struct CORSAllowlistMiddleware<Context: RequestContext>: RouterMiddleware {
    let origins: Set<String>
    let routes: RouteTable

    /// Seconds a browser may cache a preflight answer.
    static var maxAge: Int { 600 }

    /// Creates the middleware. `origins` are compared exactly after `CORSOrigin.normalize`
    /// (entries that are not origins are ignored); `routes` lists the paths preflights are
    /// answered for.
    public init(origins: [String], routes: RouteTable) {
        self.origins = Set(origins.compactMap(CORSOrigin.normalize))
        self.routes = routes
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard !origins.isEmpty else { return try await next(request, context) }
        let origin = request.headers[.origin]
        let allowed = origin.map(origins.contains) ?? false

        if request.method == .options, origin != nil, request.headers[.accessControlRequestMethod] != nil {
            let methods = routes.allowedMethods(for: request.uri.path)
            if !methods.isEmpty {
                return allowed ? preflight(origin: origin!, methods: methods) : try forbidden()
            }
        }
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as AppError {
            // Without GatehouseErrorMiddleware errors render themselves; render here, so
            // a browser on an allowed origin can read the 401's message and the 429's
            // Retry-After. Anything else is left to whatever renders errors.
            response = error.response
        }
        response.headers.append(HTTPField(name: .vary, value: "Origin"))
        if allowed, let origin {
            response.headers[.accessControlAllowOrigin] = origin
            response.headers[.accessControlAllowCredentials] = "true"
            response.headers[.accessControlExposeHeaders] = "Retry-After, WWW-Authenticate"
        }
        return response
    }

    private func preflight(origin: String, methods: [HTTPRequest.Method]) -> Response {
        Response(status: .noContent, headers: [
            .accessControlAllowOrigin: origin,
            .accessControlAllowCredentials: "true",
            .accessControlAllowMethods: (methods + [.options]).map(\.rawValue).joined(separator: ", "),
            .accessControlAllowHeaders: "Authorization, Content-Type",
            .accessControlMaxAge: String(Self.maxAge),
            .vary: "Origin",
            .xContentTypeOptions: "nosniff",
        ])
    }

    private func forbidden() throws -> Response {
        try .json(
            ErrorResponse(message: "Origin not allowed", errors: []), status: .forbidden,
            headers: [.vary: "Origin", .xContentTypeOptions: "nosniff"]
        )
    }
}

/// Origins as browsers send them in the `Origin` header.
public enum CORSOrigin {
    /// The canonical form of `text` (`https://app.example.com`, `http://localhost:3000`):
    /// lower-case, no trailing slash, no default port. `nil` when it is not an origin
    /// (another scheme, a path, a query, user info, `*`, `null`).
    public static func normalize(_ text: String) -> String? {
        var value = Substring(text.lowercased())
        if value.hasSuffix("/") { value = value.dropLast() }
        let scheme: String
        if value.hasPrefix("https://") {
            scheme = "https"
        } else if value.hasPrefix("http://") {
            scheme = "http"
        } else {
            return nil
        }
        let authority = value.dropFirst(scheme.count + 3)
        guard !authority.isEmpty, authority.count <= 300 else { return nil }
        var host = authority
        var port: Int?
        if let colon = authority.lastIndex(of: ":"), !authority[colon...].contains("]") {
            let digits = authority[authority.index(after: colon)...]
            guard !digits.isEmpty, digits.count <= 5, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let number = Int(digits), (1...65_535).contains(number)
            else { return nil }
            host = authority[..<colon]
            port = number
        }
        let hostCharacters = host.hasPrefix("[") && host.hasSuffix("]")
            ? host.dropFirst().dropLast().allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
            : host.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "-" || $0 == "." }
        guard !host.isEmpty, hostCharacters, !host.hasPrefix("."), !host.hasSuffix(".") else { return nil }
        if let port, (scheme == "https" && port == 443) || (scheme == "http" && port == 80) {
            return "\(scheme)://\(host)"
        }
        return "\(scheme)://\(host)" + (port.map { ":\($0)" } ?? "")
    }
}
