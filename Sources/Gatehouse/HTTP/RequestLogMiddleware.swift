import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Synchronization

extension HTTPField.Name {
    /// `X-Request-Id` (SPEC.md §3.8).
    public static let xRequestID = HTTPField.Name("X-Request-Id")!
}

/// The request id of SPEC.md §3.8: the client's `X-Request-Id` when it is 1–128
/// characters of `[A-Za-z0-9._-]`, otherwise 32 hex digits: 8 random bytes drawn when the
/// process starts, then a counter. Unique in the process, and across processes as long
/// as their random halves differ; one atomic increment a request, where drawing 16
/// random bytes would be system calls on every request.
enum RequestID {
    static let prefix: String = {
        var generator = SystemRandomNumberGenerator()
        return hex(generator.next())
    }()
    static let counter = Atomic<UInt64>(0)

    static func accepted(_ value: String?) -> String? {
        guard let value, (1...128).contains(value.utf8.count),
              value.utf8.allSatisfy({ $0.isASCIIAlphanumeric || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") })
        else { return nil }
        return value
    }

    static func generate() -> String {
        prefix + hex(counter.add(1, ordering: .relaxed).newValue)
    }

    /// 16 lower-case hex digits.
    static func hex(_ value: UInt64) -> String {
        String(unsafeUninitializedCapacity: 16) { buffer in
            let digits: StaticString = "0123456789abcdef"
            for index in 0..<16 {
                let nibble = Int((value >> UInt64(60 - 4 * index)) & 0xF)
                buffer[index] = digits.utf8Start[nibble]
            }
            return 16
        }
    }
}

extension UInt8 {
    fileprivate var isASCIIAlphanumeric: Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self)
    }
}

/// What the request's handlers learn that its log line should say: the user, once a
/// token is verified or a password checked. Bound as a task local for the request, so
/// the code that learns it (deep in `TokenVerifier` or `AuthController`) needs no
/// access to the middleware.
public final class RequestLogNotes: Sendable {
    @TaskLocal static var current: RequestLogNotes?

    private let user = Mutex<String?>(nil)

    /// Notes the request's user, when a request is being logged.
    static func note(userID: String) {
        current?.user.withLock { $0 = userID }
    }

    var userID: String? { user.withLock { $0 } }
}

/// One log line per request at `info` (SPEC.md §3.8), after the response, and the request
/// id: taken from `X-Request-Id` or generated, returned on every response, and put in the
/// logger's metadata so every line the request logs (the library's included) carries it.
///
/// The line holds the method, the path without its query, the route template, the
/// status, the duration in milliseconds, the request id, the client's address (after
/// `TRUST_PROXY`) and the user id when a token or password identified one. Never a
/// header value, a body, a token, a cookie or a query string. Hummingbird's
/// `LogRequestsMiddleware` is not used: it logs before the response (no status, no
/// duration) and logs the URI with its query string.
///
/// Mount it outermost, so 404s, 405s, 413s, 429s and CORS answers get their line and id.
public struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    let clients: ClientInfoResolver<Context>
    let writer: (any RequestLogLineWriter)?

    /// Creates the middleware for a context that knows its socket peer.
    public init(configuration: GatehouseConfiguration, lineWriter: (any RequestLogLineWriter)? = nil)
    where Context: RemoteAddressRequestContext {
        self.init(configuration: configuration, peerAddress: .remoteAddress, lineWriter: lineWriter)
    }

    /// Creates the middleware, with the client's address found as `peerAddress` says.
    /// `lineWriter`, when given, writes the request lines itself (see `RequestLogLineWriter`);
    /// otherwise they go through the request's `Logger`.
    public init(configuration: GatehouseConfiguration, peerAddress: PeerAddress<Context>, lineWriter: (any RequestLogLineWriter)? = nil) {
        self.clients = ClientInfoResolver(configuration: configuration, peerAddress: peerAddress)
        self.writer = lineWriter
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let id = RequestID.accepted(request.headers[.xRequestID]) ?? RequestID.generate()
        var context = context
        // One id per request: ours, which the client sees, is also Hummingbird's
        // (`context.id` reads `hb.request.id`, and must find one).
        context.logger[metadataKey: "hb.request.id"] = .string(id)
        context.logger[metadataKey: "request_id"] = .string(id)
        // Without a line to write (a level above info), nothing is noted or timed.
        guard context.logger.logLevel <= .info else {
            do {
                var response = try await next(request, context)
                response.headers[.xRequestID] = id
                return response
            } catch {
                throw RequestIDError(error: error, id: id)
            }
        }
        let notes = RequestLogNotes()
        let started = ContinuousClock.now
        do {
            var response = try await RequestLogNotes.$current.withValue(notes) { try await next(request, context) }
            response.headers[.xRequestID] = id
            log(request, context, status: response.status, started: started, notes: notes)
            return response
        } catch {
            // Only what no error middleware turned into a response gets here; it is
            // answered as the error says, with the id.
            let status = (error as? any HTTPResponseError)?.status ?? .internalServerError
            log(request, context, status: status, started: started, notes: notes)
            throw RequestIDError(error: error, id: id)
        }
    }

    private func log(_ request: Request, _ context: Context, status: HTTPResponse.Status, started: ContinuousClock.Instant, notes: RequestLogNotes) {
        let elapsed = ContinuousClock.now - started
        let line = RequestLogLine(
            method: request.method.rawValue, path: request.uri.path, route: context.endpointPath ?? "NotFound", status: status.code,
            durationMicroseconds: Int(elapsed.components.seconds) * 1_000_000 + Int(elapsed.components.attoseconds / 1_000_000_000_000),
            clientIP: clients.ip(request, context), userID: notes.userID
        )
        if let writer {
            writer.write(line, logger: context.logger, source: "Gatehouse")
        } else {
            context.logger.info("request", metadata: line.metadata)
        }
    }
}

/// The fields of the per-request log line (SPEC.md §3.8), logged as the message `request`
/// with these as metadata: `method`, `path` (never the query), `route` (the template, or
/// `NotFound`), `status`, `duration_ms`, `client_ip` and `user_id` when known. The request
/// id is already in the logger's metadata (`request_id`).
public struct RequestLogLine: Sendable {
    public let method: String
    public let path: String
    public let route: String
    public let status: Int
    public let durationMicroseconds: Int
    public let clientIP: String?
    public let userID: String?

    /// `duration_ms`: milliseconds with three decimals (`1.042`).
    public var durationMilliseconds: String {
        let fraction = String(durationMicroseconds % 1_000)
        return "\(durationMicroseconds / 1_000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }

    /// The fields as swift-log metadata, for any log handler.
    public var metadata: Logger.Metadata {
        var metadata: Logger.Metadata = [
            "method": .string(method), "path": .string(path), "route": .string(route),
            "status": .stringConvertible(status), "duration_ms": .string(durationMilliseconds),
        ]
        if let clientIP { metadata["client_ip"] = .string(clientIP) }
        if let userID { metadata["user_id"] = .string(userID) }
        return metadata
    }
}

/// Writes the request line of `RequestLogMiddleware` itself: the line `logger` would write
/// at `info` for the message `request` with `RequestLogLine.metadata` (the middleware has
/// checked the level). Gatehouse's server log handler is one: rendering straight from the
/// fields skips building a `Logger.Metadata` per request (eight boxed values, merged and
/// sorted again by the handler), which with a line per request was most of what logging
/// cost. Without a writer, the line goes through `Logger`, to any handler.
public protocol RequestLogLineWriter: Sendable {
    func write(_ line: RequestLogLine, logger: Logger, source: String)
}

/// An error that escaped every error middleware, answered as itself plus the request id.
struct RequestIDError: HTTPResponseError {
    let error: any Error
    let id: String

    var status: HTTPResponse.Status { (error as? any HTTPResponseError)?.status ?? .internalServerError }
    var headers: HTTPFields { [.xRequestID: id] }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try (error as? any HTTPResponseError)?.response(from: request, context: context)
            ?? AppError.internalError.response(from: request, context: context)
        response.headers[.xRequestID] = id
        return response
    }
}
