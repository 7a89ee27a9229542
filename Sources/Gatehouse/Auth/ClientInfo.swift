/// Who is asking, recorded on the session (per-device listing later).
public struct ClientInfo: Sendable, Equatable {
    public var userAgent: String?
    public var ip: String?

    /// Creates client info; a user agent is cut to 512 characters.
    public init(userAgent: String? = nil, ip: String? = nil) {
        self.userAgent = userAgent.map { String($0.prefix(512)) }
        self.ip = ip
    }
}
