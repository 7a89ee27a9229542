/// Who is asking, recorded on the session (per-device listing later).
public struct ClientInfo: Sendable, Equatable {
    /// Longest stored user agent, in UTF-8 bytes.
    public static let maximumUserAgentBytes = 512

    /// The `User-Agent`, cut to 512 UTF-8 bytes on a scalar boundary, without control
    /// characters.
    public var userAgent: String?
    /// The client's address in canonical form, when it is one (anything else is dropped).
    public var ip: String?
    /// The key per-client limits count under (SPEC.md §1 `TRUST_PROXY`): the IPv4
    /// address, the IPv6 /64, or `unknown`.
    public var rateLimitKey: String

    /// Creates client info. The user agent is stored on every session, so it is bounded
    /// by bytes (a `Character` can be any number of bytes) and stripped of control
    /// characters (PostgreSQL refuses NUL in `text`; the others only spoof log lines).
    public init(userAgent: String? = nil, ip: String? = nil, rateLimitKey: String? = nil) {
        self.userAgent = userAgent.flatMap(Self.storableUserAgent)
        self.ip = ip.flatMap { IPAddress($0)?.description }
        self.rateLimitKey = rateLimitKey ?? IPAddress.rateLimitKey(ip)
    }

    /// `raw` without control characters, cut to at most `maximumUserAgentBytes` bytes
    /// where a scalar ends; `nil` when nothing is left.
    static func storableUserAgent(_ raw: String) -> String? {
        var scalars = String.UnicodeScalarView()
        var bytes = 0
        for scalar in raw.unicodeScalars where scalar.properties.generalCategory != .control {
            let width = UTF8.width(scalar)
            guard bytes + width <= maximumUserAgentBytes else { break }
            bytes += width
            scalars.append(scalar)
        }
        return scalars.isEmpty ? nil : String(scalars)
    }
}
