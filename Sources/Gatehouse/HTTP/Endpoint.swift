import HTTPTypes
import Hummingbird

/// One route of a controller: its method, its path relative to where the controller is
/// mounted, and its handler. A controller lists its endpoints once; the same list mounts
/// the routes and records them for 405 answers, so the two cannot drift apart.
struct Endpoint<Context: RequestContext>: Sendable {
    let method: HTTPRequest.Method
    let path: String
    let handler: @Sendable (Request, Context) async throws -> Response

    init(_ method: HTTPRequest.Method, _ path: String, _ handler: @escaping @Sendable (Request, Context) async throws -> Response) {
        self.method = method
        self.path = path
        self.handler = handler
    }
}

extension Array {
    /// Mounts every endpoint on `router`.
    func add<Context>(to router: some RouterMethods<Context>) where Element == Endpoint<Context> {
        for endpoint in self {
            router.on(RouterPath(endpoint.path), method: endpoint.method, use: endpoint.handler)
        }
    }

    /// Records every endpoint, mounted at `basePath`, in `table`.
    func record<Context>(in table: inout RouteTable, basePath: String) where Element == Endpoint<Context> {
        for endpoint in self {
            table.add(endpoint.method, basePath + "/" + endpoint.path)
        }
    }
}
