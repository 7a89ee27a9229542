import Hummingbird

/// How a controller finds the client of a request: its address (after `TRUST_PROXY`) and
/// user agent.
struct ClientInfoResolver<Context: RequestContext>: Sendable {
    let addresses: ClientAddressResolver
    let peerAddress: PeerAddress<Context>

    init(configuration: GatehouseConfiguration, peerAddress: PeerAddress<Context>) {
        self.addresses = ClientAddressResolver(trustedProxies: configuration.trustedProxies)
        self.peerAddress = peerAddress
    }

    func client(_ request: Request, _ context: Context) -> ClientInfo {
        let resolved = addresses.client(headers: request.headers, peer: peerAddress.address(request, context))
        return ClientInfo(userAgent: request.headers[.userAgent], ip: resolved.ip, rateLimitKey: resolved.rateLimitKey)
    }

    /// The client's address alone, as `client(_:_:)` gives it: for the request log, which
    /// needs neither the user agent nor the rate-limit key.
    func ip(_ request: Request, _ context: Context) -> String? {
        addresses.clientAddress(headers: request.headers, peer: peerAddress.address(request, context))
    }
}
