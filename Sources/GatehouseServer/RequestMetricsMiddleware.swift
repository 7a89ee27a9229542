import Dispatch
import HTTPTypes
import Hummingbird
import Metrics
import Synchronization

/// Requests by route template, method and status, with their latency (SPEC.md §3.8): the
/// series of Hummingbird's `MetricsMiddleware`, under the same names (`hb_requests`,
/// `http_server_request_duration`, `hb_request_errors`, `http_server_active_requests`).
///
/// Written here rather than used from Hummingbird because of what it cost on the
/// benchmark's fast routes: Hummingbird's middleware wraps every response body in a
/// post-write closure (so the body is written through an extra async layer) and looks up
/// its series in two locked caches. This one records when the handler returns (the
/// bodies here are small and already in memory), and keeps the series of each
/// (route, method, status) in one table read under a lock, built as answers are seen.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let series = RequestSeries()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = DispatchTime.now().uptimeNanoseconds
        let active = series.active(request.method)
        active.increment()
        defer { active.decrement() }
        do {
            let response = try await next(request, context)
            series.endpoint(context.endpointPath ?? "NotFound", request.method, response.status.code)
                .record(nanoseconds: DispatchTime.now().uptimeNanoseconds - started)
            return response
        } catch {
            // Only what no error middleware answered: in `gatehouse serve`, where
            // `GatehouseErrorMiddleware` sits inside this one, nothing (hb_request_errors
            // stays 0, as it did with Hummingbird's middleware); an embedder's router may differ.
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            let endpoint = series.endpoint(context.endpointPath ?? "NotFound", request.method, status)
            endpoint.record(nanoseconds: DispatchTime.now().uptimeNanoseconds - started)
            endpoint.errors.increment()
            throw error
        }
    }
}

/// The metric handles of each route, method and status seen, made once each.
final class RequestSeries: Sendable {
    struct Key: Hashable {
        let route: String
        let method: HTTPRequest.Method
        let status: Int
    }

    struct Endpoint: Sendable {
        let requests: Counter
        let duration: Timer
        let errors: Counter

        init(_ key: Key) {
            let dimensions = [
                ("http.route", key.route), ("http.request.method", key.method.rawValue), ("http.response.status_code", String(key.status)),
            ]
            self.requests = Counter(label: "hb.requests", dimensions: dimensions)
            self.duration = Timer(label: "http.server.request.duration", dimensions: dimensions, preferredDisplayUnit: .seconds)
            self.errors = Counter(
                label: "hb.request.errors",
                dimensions: [("http.route", key.route), ("http.request.method", key.method.rawValue), ("error.type", String(key.status))]
            )
        }

        func record(nanoseconds: UInt64) {
            requests.increment()
            duration.recordNanoseconds(Int64(clamping: nanoseconds))
        }
    }

    private let endpoints = Mutex<[Key: Endpoint]>([:])
    private let methods = Mutex<[HTTPRequest.Method: Meter]>([:])

    func endpoint(_ route: String, _ method: HTTPRequest.Method, _ status: Int) -> Endpoint {
        let key = Key(route: route, method: method, status: status)
        if let found = endpoints.withLock({ $0[key] }) { return found }
        // Made outside the lock (the metrics factory takes its own); a race makes the same
        // series twice, and the factory hands back the one it already has.
        let made = Endpoint(key)
        return endpoints.withLock { table in
            if let found = table[key] { return found }
            table[key] = made
            return made
        }
    }

    func active(_ method: HTTPRequest.Method) -> Meter {
        if let found = methods.withLock({ $0[method] }) { return found }
        let made = Meter(label: "http.server.active_requests", dimensions: [("http.request.method", method.rawValue)])
        return methods.withLock { table in
            if let found = table[method] { return found }
            table[method] = made
            return made
        }
    }
}
