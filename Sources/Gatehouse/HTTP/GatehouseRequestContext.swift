import Hummingbird
import HummingbirdAuth

/// What Gatehouse's routes need from a request context: an identity slot for the
/// verified access-token claims, and the client's address for session records.
///
/// Conform your own context to mount Gatehouse in an existing application, or use
/// `GatehouseContext`.
public protocol GatehouseRequestContext: AuthRequestContext where Identity == AccessClaims {
    /// The client's IP address, if known.
    var clientAddress: String? { get }
}

extension GatehouseRequestContext {
    /// Unknown unless the context provides it.
    public var clientAddress: String? { nil }
}

/// The request context of the `gatehouse` server, usable by any embedding application.
public struct GatehouseContext: GatehouseRequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: AccessClaims?
    public let clientAddress: String?

    /// Creates the context for one request, noting the peer address.
    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.identity = nil
        self.clientAddress = source.channel.remoteAddress?.ipAddress
    }

    /// Matches the JSON body limit, so nothing in this context decodes more than 64 KiB.
    public var maxUploadSize: Int { JSONBody.maximumBytes }
}
