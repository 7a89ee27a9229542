#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import HTTPTypes

/// Decides which IP address a request comes from (SPEC.md §1 `TRUST_PROXY`), with
/// Express's `trust proxy` semantics.
///
/// The candidates are the socket's peer, then the `X-Forwarded-For` entries from right
/// to left (each proxy appends the address it received the request from). The client is
/// the first candidate that is not trusted: with `.hops(n)` the first `n` are trusted;
/// with `.networks` every address inside one of them is. If every candidate is trusted,
/// the left-most entry is the client. Without trusted proxies it is the peer, whatever
/// `X-Forwarded-For` says (anyone can send that header).
///
/// An entry that is not an IP address, where the client should be, is no address
/// (`ip` nil) but still its own rate-limit key (`forwarded:` and its first 64 bytes),
/// rather than the proxy's address: that would put every client in one bucket.
public struct ClientAddressResolver: Sendable {
    /// Which proxies are believed.
    public let trustedProxies: TrustedProxies

    /// Creates a resolver.
    public init(trustedProxies: TrustedProxies) {
        self.trustedProxies = trustedProxies
    }

    /// The client of a request with `headers` from socket peer `peer`.
    public func client(headers: HTTPFields, peer: String?) -> ResolvedClient {
        let trustedHops: Int
        switch trustedProxies {
        case .none: return ResolvedClient(peer)
        case .hops(let count): trustedHops = count
        case .networks: trustedHops = .max
        }
        // No proxy spoke: the peer (the common case, on every request for the log).
        guard headers[.xForwardedFor] != nil else { return ResolvedClient(peer) }
        // Several header lines are one list, in order (RFC 9110 §5.3).
        // Empty entries (`a,,b`, a blank header) are skipped, as Express's proxy-addr does.
        let entries = headers[values: .xForwardedFor].joined(separator: ",").split(separator: ",")
            .filter { !$0.allSatisfy { $0 == " " || $0 == "\t" } }
        // Candidate 0 is the peer; candidate i > 0 is the i-th entry from the right.
        var candidate = ResolvedClient(peer)
        var parsed = peer.flatMap { IPAddress($0) }
        var index = 0
        for entry in entries.reversed() {
            guard isTrusted(parsed, at: index, hops: trustedHops) else { return candidate }
            index += 1
            let trimmed = entry.drop { $0 == " " || $0 == "\t" }
            parsed = IPAddress(String(trimmed))
            candidate = parsed.map { ResolvedClient(address: $0) } ?? ResolvedClient(unparsed: trimmed)
        }
        return candidate
    }

    /// The client's address, when it is one (see `client(headers:peer:)`).
    public func clientAddress(headers: HTTPFields, peer: String?) -> String? {
        client(headers: headers, peer: peer).ip
    }

    private func isTrusted(_ address: IPAddress?, at index: Int, hops: Int) -> Bool {
        if case .networks(let networks) = trustedProxies {
            guard let address else { return false }
            return networks.contains { $0.contains(address) }
        }
        return index < hops
    }
}

/// The client a request is attributed to.
public struct ResolvedClient: Sendable, Equatable {
    /// The canonical address, or `nil` when unknown or not an address.
    public let ip: String?
    /// The key per-client limits count under.
    public let rateLimitKey: String

    init(_ peer: String?) {
        if let peer, let canonical = IPAddress.canonicalIPv4(peer) {
            self.init(ip: canonical, rateLimitKey: canonical)
        } else if let peer, let address = IPAddress(peer) {
            self.init(address: address)
        } else {
            self.init(ip: nil, rateLimitKey: IPAddress.rateLimitKey(nil))
        }
    }

    init(address: IPAddress) {
        let text = address.description
        self.init(ip: text, rateLimitKey: address.bytes.count == 4 ? text : address.rateLimitKey)
    }

    init(unparsed entry: Substring) {
        let printable = entry.unicodeScalars.filter { $0.isASCII && $0.value >= 0x21 && $0.value < 0x7F }.prefix(64)
        self.init(ip: nil, rateLimitKey: "forwarded:" + String(String.UnicodeScalarView(printable)))
    }

    private init(ip: String?, rateLimitKey: String) {
        self.ip = ip
        self.rateLimitKey = rateLimitKey
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
        return parsed.rateLimitKey
    }

    /// See `rateLimitKey(_:)`.
    public var rateLimitKey: String {
        guard bytes.count == 16 else { return description }
        return IPAddress(bytes: Array(bytes.prefix(8)) + [UInt8](repeating: 0, count: 8)).description + "/64"
    }

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// `text` itself when it is an IPv4 address in canonical dotted decimal, without
    /// parsing it into bytes and writing it back: `inet_pton` takes only digits and dots
    /// with no leading zeros (glibc), which is `inet_ntop`'s form. `nil` otherwise (the
    /// caller falls back to `IPAddress`). Socket peers are in this form; the client
    /// address is resolved on every request, for the request log.
    static func canonicalIPv4(_ text: String) -> String? {
        guard text.utf8.count <= 15,
              text.utf8.allSatisfy({ $0 == UInt8(ascii: ".") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })
        else { return nil }
        var v4 = in_addr()
        return inet_pton(AF_INET, text, &v4) == 1 ? text : nil
    }

    /// Four octets as `inet_ntop` writes them (`192.0.2.1`), without its `sprintf`.
    static func dottedDecimal(_ octets: some Collection<UInt8>) -> String {
        String(unsafeUninitializedCapacity: 15) { text in
            var count = 0
            for (index, octet) in octets.prefix(4).enumerated() {
                if index > 0 { text[count] = UInt8(ascii: "."); count += 1 }
                if octet >= 100 { text[count] = UInt8(ascii: "0") + octet / 100; count += 1 }
                if octet >= 10 { text[count] = UInt8(ascii: "0") + octet / 10 % 10; count += 1 }
                text[count] = UInt8(ascii: "0") + octet % 10
                count += 1
            }
            return count
        }
    }
}
