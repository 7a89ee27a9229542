import Hummingbird
import Metrics
import NIOCore
import Prometheus

/// `GET /metrics` (SPEC.md §3.8): swift-metrics with swift-prometheus as its backend.
enum PrometheusExport {
    /// The process's registry, installed as swift-metrics' backend on first use (swift-metrics
    /// allows one bootstrap a process). Latency buckets span 50 µs to 2 s: a verify
    /// answers in tens of microseconds, a login at cost 12 in a quarter of a second.
    static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2.5),
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .milliseconds(500), .seconds(1), .seconds(2),
        ]
        MetricsSystem.bootstrap(factory)
        return registry
    }()

    /// The exposition, in Prometheus' text format.
    static func response() -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer()))
        )
    }
}
