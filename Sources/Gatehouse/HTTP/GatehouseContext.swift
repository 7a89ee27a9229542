import Hummingbird
import HummingbirdAuth
import NIOCore

/// The request context of the `gatehouse` server, usable by any embedding application:
/// hummingbird-auth's identity slot (the verified `AccessClaims`) and Hummingbird's
/// socket peer (`RemoteAddressRequestContext`), which `AuthController` uses for per-client
/// limits and session records.
///
/// Any context of your own works the same way: conform it to `AuthRequestContext` for the
/// authenticator and to `RemoteAddressRequestContext` for the routes.
public struct GatehouseContext: AuthRequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: AccessClaims?
    public let remoteAddress: SocketAddress?

    /// Creates the context for one request, noting the peer address.
    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.identity = nil
        self.remoteAddress = source.channel.remoteAddress
    }

    /// Matches the JSON body limit, so nothing in this context decodes more than 64 KiB.
    public var maxUploadSize: Int { JSONBody.maximumBytes }
}
