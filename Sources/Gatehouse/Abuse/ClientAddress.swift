#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import HTTPTypes

/// Decides which IP address a request comes from (SPEC.md §1 `TRUST_PROXY`).
///
/// Without a trusted proxy it is the socket's peer, whatever `X-Forwarded-For` says
/// (anyone can send that header). Behind a trusted proxy it is the last address of
/// `X-Forwarded-For`, the one the proxy itself appended; if that entry is not an IP
/// address the proxy is misbehaving and the peer is used instead.
public struct ClientAddressResolver: Sendable {
    /// Whether `X-Forwarded-For` is believed.
    public let trustProxy: Bool

    /// Creates a resolver.
    public init(trustProxy: Bool) {
        self.trustProxy = trustProxy
    }

    /// The client's address for a request with `headers` from socket peer `peer`.
    public func clientAddress(headers: HTTPFields, peer: String?) -> String? {
        guard trustProxy else { return peer }
        // Several header lines are one list, in order (RFC 9110 §5.3).
        let entries = headers[values: .xForwardedFor].joined(separator: ",").split(separator: ",")
        guard let last = entries.last, let address = IPAddress(String(last)) else { return peer }
        return address.description
    }
}

extension HTTPField.Name {
    static var xForwardedFor: Self { .init("X-Forwarded-For")! }
}

/// An IPv4 or IPv6 address parsed from text, tolerating the forms proxies write
/// (`1.2.3.4:5678`, `[::1]:443`, surrounding spaces).
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    /// 4 bytes (IPv4) or 16 bytes (IPv6).
    public let bytes: [UInt8]

    /// Parses an address; `nil` when the text is not one.
    public init?(_ text: String) {
        var candidate = Substring(text).drop { $0 == " " || $0 == "\t" }
        while let last = candidate.last, last == " " || last == "\t" { candidate = candidate.dropLast() }
        guard !candidate.isEmpty, candidate.count <= 64 else { return nil }
        if candidate.first == "[", let close = candidate.firstIndex(of: "]") {
            candidate = candidate[candidate.index(after: candidate.startIndex)..<close]
        } else if candidate.filter({ $0 == ":" }).count == 1 {
            candidate = candidate.prefix { $0 != ":" }
        }
        let text = String(candidate)
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
        } else if inet_pton(AF_INET6, text, &v6) == 1 {
            let raw = withUnsafeBytes(of: &v6) { Array($0) }
            // An IPv4 client on a dual-stack socket is still an IPv4 client.
            bytes = raw.prefix(12) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF] ? Array(raw.suffix(4)) : raw
        } else {
            return nil
        }
    }

    /// The canonical text form (`inet_ntop`).
    public var description: String {
        var copy = bytes
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        guard inet_ntop(family, &copy, &buffer, socklen_t(buffer.count)) != nil else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The key a per-IP rate limit counts under: the address for IPv4, the /64 network
    /// for IPv6 (one subscriber usually holds a whole /64, so counting single IPv6
    /// addresses would let one client rotate through billions of keys).
    public static func rateLimitKey(_ address: String?) -> String {
        guard let address, let parsed = IPAddress(address) else { return "unknown" }
        guard parsed.bytes.count == 16 else { return parsed.description }
        let network = IPAddress(bytes: Array(parsed.bytes.prefix(8)) + [UInt8](repeating: 0, count: 8))
        return network.description + "/64"
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }
}
