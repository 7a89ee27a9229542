/// Which proxies in front of Gatehouse are believed when they say who the client is
/// (`TRUST_PROXY`, SPEC.md §1). See `ClientAddressResolver` for how the client is found.
public enum TrustedProxies: Sendable, Equatable, CustomStringConvertible {
    /// `X-Forwarded-For` is ignored; the client is the socket's peer.
    case none
    /// The nearest `n` hops (the peer and the `n − 1` right-most entries) are proxies.
    case hops(Int)
    /// Proxies are the addresses inside these networks.
    case networks([IPNetwork])

    /// Most hops accepted: no real deployment has more, and it bounds the walk.
    public static let maximumHops = 100

    /// The configuration message for a value that is none of the accepted forms.
    public static let formatProblem =
        "must be false, true, a hop count from 0 to 100, or comma-separated CIDRs of trusted proxies such as 10.0.0.0/8"

    /// Parses `false`, `true` (one hop), a hop count, or comma-separated CIDRs or
    /// addresses (`10.0.0.0/8, 2001:db8::/32, 192.0.2.7`); `nil` when the text is none of these.
    public init?(parsing text: String) {
        let trimmed = text.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()
        let value = String(trimmed)
        switch value.lowercased() {
        case "false": self = .none; return
        case "true": self = .hops(1); return
        default: break
        }
        if !value.isEmpty, value.count <= 3, value.allSatisfy({ $0.isASCII && $0.isNumber }), let hops = Int(value) {
            guard hops <= Self.maximumHops else { return nil }
            self = hops == 0 ? .none : .hops(hops)
            return
        }
        var networks: [IPNetwork] = []
        for entry in value.split(separator: ",", omittingEmptySubsequences: false) {
            guard let network = IPNetwork(parsing: String(entry)) else { return nil }
            networks.append(network)
        }
        guard !networks.isEmpty else { return nil }
        self = .networks(networks)
    }

    public var description: String {
        switch self {
        case .none: "false"
        case .hops(let count): "\(count) hop" + (count == 1 ? "" : "s")
        case .networks(let networks): networks.map(\.description).joined(separator: ",")
        }
    }
}

/// An IPv4 or IPv6 network in CIDR notation (`10.0.0.0/8`); a bare address is a
/// network of one (`/32` or `/128`).
public struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    /// The network's address with the host bits cleared.
    public let address: IPAddress
    /// Leading bits that must match.
    public let prefixLength: Int

    /// Parses `ADDRESS[/PREFIX]`; `nil` when it is not one or the prefix is out of range.
    public init?(parsing text: String) {
        let trimmed = String(text.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
        let parts = trimmed.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].contains("["), let address = IPAddress(String(parts[0])) else { return nil }
        // An IPv4-mapped IPv6 network (`::ffff:10.0.0.0/104`) is the IPv4 network it maps,
        // as for addresses; its prefix counts IPv6 bits.
        let mapped = address.bytes.count == 4 && parts[0].lowercased().hasPrefix("::ffff:")
        // `IPAddress` tolerates `host:port`; a network never has a port.
        guard address.bytes.count == 16 || mapped || !parts[0].contains(":") else { return nil }
        let bits = address.bytes.count * 8
        var length = bits
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].count <= 3, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }),
                  var prefix = Int(parts[1])
            else { return nil }
            if mapped {
                guard prefix >= 96 else { return nil }
                prefix -= 96
            }
            guard prefix <= bits else { return nil }
            length = prefix
        }
        self.prefixLength = length
        self.address = IPAddress(bytes: Self.masked(address.bytes, to: length))
    }

    /// Whether `candidate` lies in the network (an IPv4 address never lies in an IPv6
    /// network, nor the reverse; IPv4-mapped IPv6 addresses are IPv4 addresses).
    public func contains(_ candidate: IPAddress) -> Bool {
        candidate.bytes.count == address.bytes.count && Self.masked(candidate.bytes, to: prefixLength) == address.bytes
    }

    public var description: String { "\(address)/\(prefixLength)" }

    private static func masked(_ bytes: [UInt8], to length: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let keep = min(max(length - index * 8, 0), 8)
            return keep == 8 ? byte : byte & ~(UInt8(0xFF) >> keep)
        }
    }
}
