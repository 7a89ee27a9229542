import Foundation
import HTTPTypes
import Testing

@testable import Gatehouse

@Suite struct RateLimitParsingTests {
    @Test(arguments: [
        ("10/1m", RateLimit(10, per: 60)), ("20/1h", RateLimit(20, per: 3_600)), ("3/2s", RateLimit(3, per: 2)),
        ("5/15m", RateLimit(5, per: 900)), ("1/1", RateLimit(1, per: 1)), ("1000000/7d", RateLimit(1_000_000, per: 604_800)),
    ])
    func validLimitsParse(text: String, expected: RateLimit) {
        #expect(RateLimit(parsing: text) == expected)
    }

    @Test(arguments: ["", "off", "10", "/1m", "10/", "0/1m", "-1/1m", "10/0", "10/0s", "1000001/1m", "10/1w", "10/1m/2", "1e3/1m", " 10/1m", "١٠/1m"])
    func invalidLimitsDoNotParse(text: String) {
        #expect(RateLimit(parsing: text) == nil)
    }
}

@Suite struct InMemoryRateLimiterTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func allowsTheLimitThenRefusesWithTheTimeLeft() {
        let limiter = InMemoryRateLimiter(RateLimit(3, per: 10))
        for _ in 0..<3 { #expect(limiter.acquire("k", now: start) == .allowed) }
        #expect(limiter.acquire("k", now: start) == .limited(retryAfter: 10))
        #expect(limiter.acquire("k", now: start.addingTimeInterval(4.2)) == .limited(retryAfter: 6))
        #expect(limiter.acquire("other", now: start) == .allowed)
    }

    /// Retry-After is honest: whatever the fraction of a second a refusal comes at,
    /// waiting exactly the advertised seconds gets through, and one second less does not
    /// when that is still inside the window.
    @Test(arguments: [0.0, 0.001, 0.4, 0.5, 0.999, 1.0, 1.7])
    func retryAfterIsTruthful(offset: Double) {
        let limiter = InMemoryRateLimiter(RateLimit(2, per: 2))
        #expect(limiter.acquire("k", now: start) == .allowed)
        #expect(limiter.acquire("k", now: start) == .allowed)
        let refusedAt = start.addingTimeInterval(offset)
        guard case .limited(let retryAfter) = limiter.acquire("k", now: refusedAt) else {
            Issue.record("expected a refusal")
            return
        }
        #expect(retryAfter >= 1)
        if retryAfter > 1 {
            #expect(limiter.acquire("k", now: refusedAt.addingTimeInterval(Double(retryAfter - 1))) != .allowed)
        }
        #expect(limiter.acquire("k", now: refusedAt.addingTimeInterval(Double(retryAfter))) == .allowed)
    }

    @Test func refusedEventsAreNotCountedAndTheWindowDoesNotSlide() {
        let limiter = InMemoryRateLimiter(RateLimit(1, per: 5))
        #expect(limiter.acquire("k", now: start) == .allowed)
        for second in 1..<5 {
            #expect(limiter.acquire("k", now: start.addingTimeInterval(Double(second))) == .limited(retryAfter: 5 - second))
        }
        #expect(limiter.acquire("k", now: start.addingTimeInterval(5)) == .allowed)
    }

    @Test func resetForgetsOnlyThatKey() {
        let limiter = InMemoryRateLimiter(RateLimit(1, per: 60))
        _ = limiter.acquire("a", now: start)
        _ = limiter.acquire("b", now: start)
        limiter.reset("a")
        #expect(limiter.acquire("a", now: start) == .allowed)
        #expect(limiter.acquire("b", now: start) != .allowed)
    }

    /// A spray of a million distinct keys (IPs or emails) never holds more than the cap,
    /// in windows or in bytes.
    @Test func memoryIsBoundedByTheCapacity() {
        let limiter = InMemoryRateLimiter(RateLimit(5, per: 3_600), capacity: 1_000)
        var mostKeys = 0
        var mostBytes = 0
        for index in 0..<1_000_000 {
            _ = limiter.acquire(String(index), now: start.addingTimeInterval(Double(index) / 1_000))
            if index % 4_999 == 0 {
                mostKeys = max(mostKeys, limiter.trackedKeys)
                mostBytes = max(mostBytes, limiter.approximateBytes)
            }
        }
        #expect(mostKeys <= 1_000)
        #expect(limiter.trackedKeys == 1_000)
        // About 41 bytes per window slot and 32 per queue entry, with the growth slack of
        // both: well under 300 bytes per key of capacity.
        #expect(mostBytes <= 300 * 1_000, "\(mostBytes) bytes")
    }

    /// The figure the README gives: a limiter at the default capacity, full and
    /// cycling, holds at most 9 MiB.
    @Test func theDefaultCapacityHoldsAtMostNineMebibytes() {
        let limiter = InMemoryRateLimiter(RateLimit(5, per: 3_600))
        for index in 0..<300_000 {
            _ = limiter.acquire("spray-\(index)@example.com", now: start.addingTimeInterval(Double(index) / 1_000))
        }
        #expect(limiter.trackedKeys == InMemoryRateLimiter.defaultCapacity)
        #expect(limiter.approximateBytes <= 9 * 1_024 * 1_024, "\(limiter.approximateBytes) bytes")
    }

    /// Resets (successful logins) leave stale queue entries; they are compacted away.
    @Test func resetsDoNotGrowTheQueue() {
        let limiter = InMemoryRateLimiter(RateLimit(5, per: 3_600), capacity: 100)
        for _ in 0..<100_000 {
            _ = limiter.acquire("same", now: start)
            limiter.reset("same")
        }
        #expect(limiter.approximateBytes <= 300 * 100)
    }

    /// Long keys cost no more than short ones: keys are stored as digests.
    /// A "forever" window cannot overflow a wait: windows are at most ten years.
    @Test func hugeWindowsAreClampedAndNeverTrap() {
        #expect(RateLimit(5, per: .max).window == TimeSpan.maximumSeconds)
        let limiter = InMemoryRateLimiter(RateLimit(1, per: .max), capacity: 10)
        #expect(limiter.acquire("k", now: start) == .allowed)
        #expect(limiter.acquire("k", now: start) == .limited(retryAfter: TimeSpan.maximumSeconds))
        for index in 0..<10 { _ = limiter.acquire("f\(index)", now: start) }
        #expect(limiter.acquire("new", now: start) != .allowed)
    }

    @Test func longKeysAreStoredAsDigests() {
        let limiter = InMemoryRateLimiter(RateLimit(1, per: 60))
        let long = String(repeating: "x", count: 60_000) + "@example.com"
        #expect(limiter.acquire(long, now: start) == .allowed)
        #expect(limiter.acquire(long, now: start) != .allowed)
        #expect(limiter.acquire(long + "x", now: start) == .allowed)
        #expect(MemoryLayout<InMemoryRateLimiter.Digest>.size == 16)
    }

    /// At the cap, the window closest to its end among those still allowing goes first;
    /// the newest survive.
    @Test func evictionDropsTheWindowThatEndsSoonest() {
        let limiter = InMemoryRateLimiter(RateLimit(2, per: 1_000), capacity: 100)
        for index in 0..<100 {
            _ = limiter.acquire("key-\(index)", now: start.addingTimeInterval(Double(index)))
        }
        _ = limiter.acquire("newcomer", now: start.addingTimeInterval(100))
        #expect(limiter.trackedKeys == 100)
        // Tracked keys have one event left; the evicted key-0 starts again with two.
        #expect(limiter.acquire("key-1", now: start.addingTimeInterval(101)) == .allowed)
        #expect(limiter.acquire("key-1", now: start.addingTimeInterval(101)) != .allowed)
        #expect(limiter.acquire("newcomer", now: start.addingTimeInterval(101)) == .allowed)
        #expect(limiter.acquire("newcomer", now: start.addingTimeInterval(101)) != .allowed)
        #expect(limiter.acquire("key-0", now: start.addingTimeInterval(101)) == .allowed)
        #expect(limiter.acquire("key-0", now: start.addingTimeInterval(101)) == .allowed)
    }

    /// A locked account stays locked through a spray of ten times the capacity in new
    /// keys (it was unlocked by 50,500 sprayed emails before), and memory stays bounded.
    @Test func aSprayCannotEvictALockout() {
        let limiter = InMemoryRateLimiter(RateLimit(5, per: 900), capacity: 1_000)
        for _ in 0..<5 { #expect(limiter.acquire("victim@example.com", now: start) == .allowed) }
        #expect(limiter.acquire("victim@example.com", now: start) == .limited(retryAfter: 900))
        // Some other refusing windows too, so the eviction cursor has to pass them.
        for index in 0..<300 {
            for _ in 0..<6 { _ = limiter.acquire("locked-\(index)", now: start) }
        }
        var mostBytes = 0
        for index in 0..<10_000 {
            _ = limiter.acquire("spray-\(index)@example.com", now: start.addingTimeInterval(Double(index) / 100))
            mostBytes = max(mostBytes, limiter.approximateBytes)
        }
        #expect(limiter.trackedKeys <= 1_000)
        #expect(mostBytes <= 300 * 1_000, "\(mostBytes) bytes")
        #expect(limiter.acquire("victim@example.com", now: start.addingTimeInterval(100)) == .limited(retryAfter: 800))
        #expect(limiter.acquire("locked-299", now: start.addingTimeInterval(100)) == .limited(retryAfter: 800))
        // The lockout ends on time.
        #expect(limiter.acquire("victim@example.com", now: start.addingTimeInterval(900)) == .allowed)
    }

    /// When every window is refusing, a new key is refused until the soonest one ends,
    /// rather than one of them being forgotten.
    @Test func aFullLimiterOfRefusingWindowsRefusesNewKeys() {
        let limiter = InMemoryRateLimiter(RateLimit(1, per: 100), capacity: 10)
        for index in 0..<10 {
            #expect(limiter.acquire("k\(index)", now: start.addingTimeInterval(Double(index))) == .allowed)
        }
        #expect(limiter.acquire("new", now: start.addingTimeInterval(10)) == .limited(retryAfter: 90))
        for index in 0..<10 {
            #expect(limiter.acquire("k\(index)", now: start.addingTimeInterval(10)) != .allowed)
        }
        #expect(limiter.trackedKeys == 10)
        // The first window ends at 100: then there is room again.
        #expect(limiter.acquire("new", now: start.addingTimeInterval(100)) == .allowed)
        #expect(limiter.acquire("k1", now: start.addingTimeInterval(100)) != .allowed)
    }

    @Test func expiredWindowsAreSwept() {
        let limiter = InMemoryRateLimiter(RateLimit(1, per: 10))
        for index in 0..<500 { _ = limiter.acquire("k\(index)", now: start) }
        #expect(limiter.trackedKeys == 500)
        _ = limiter.acquire("later", now: start.addingTimeInterval(11))
        #expect(limiter.trackedKeys == 1)
    }

    @Test func concurrentAcquiresNeverExceedTheLimit() async {
        let limiter = InMemoryRateLimiter(RateLimit(7, per: 60))
        let start = self.start
        let allowed = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<200 { group.addTask { limiter.acquire("k", now: start) == .allowed } }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(allowed == 7)
    }
}

@Suite struct ClientAddressTests {
    @Test(arguments: [
        ("203.0.113.9", "203.0.113.9"), (" 203.0.113.9 ", "203.0.113.9"), ("203.0.113.9:5678", "203.0.113.9"),
        ("2001:DB8::1", "2001:db8::1"), ("[2001:db8::1]:443", "2001:db8::1"), ("::ffff:192.0.2.1", "192.0.2.1"),
        ("::1", "::1"),
    ])
    func addressesParseToTheirCanonicalForm(text: String, canonical: String) {
        #expect(IPAddress(text)?.description == canonical)
    }

    /// The dotted decimal written for socket peers and the peer fast path of
    /// `clientAddress` agree with `inet_ntop` (and with `inet_pton`'s refusals).
    @Test func dottedDecimalIsInetNtop() {
        var generator = SystemRandomNumberGenerator()
        let fixed: [[UInt8]] = [[0, 0, 0, 0], [255, 255, 255, 255], [9, 10, 99, 100], [127, 0, 0, 1], [192, 0, 2, 1]]
        for octets in fixed + (0..<500).map({ _ in (0..<4).map { _ in UInt8.random(in: 0...255, using: &generator) } }) {
            let text = IPAddress.dottedDecimal(octets)
            #expect(text == IPAddress(bytes: octets).description)
            let resolver = ClientAddressResolver(trustedProxies: .none)
            #expect(resolver.clientAddress(headers: [:], peer: text) == text)
        }
        let resolver = ClientAddressResolver(trustedProxies: .none)
        for text in ["01.2.3.4", "1.2.3", "256.1.1.1", "1..2.3", "1234"] {
            #expect(resolver.clientAddress(headers: [:], peer: text) == nil, "\(text)")
        }
        #expect(resolver.clientAddress(headers: [:], peer: "::ffff:192.0.2.1") == "192.0.2.1")
    }

    @Test(arguments: ["", "unknown", "999.1.1.1", "1.2.3", "example.com", "1.2.3.4.5", "::g", "<script>", String(repeating: "1", count: 100)])
    func nonAddressesDoNotParse(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test func rateLimitKeysGroupIPv6ByNetwork() {
        #expect(IPAddress.rateLimitKey("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64")
        #expect(IPAddress.rateLimitKey("2001:db8:1:2:bbbb::7") == "2001:db8:1:2::/64")
        #expect(IPAddress.rateLimitKey("2001:db8:1:3::1") == "2001:db8:1:3::/64")
        #expect(IPAddress.rateLimitKey("192.0.2.1") == "192.0.2.1")
        #expect(IPAddress.rateLimitKey("::ffff:192.0.2.1") == "192.0.2.1")
        #expect(IPAddress.rateLimitKey(nil) == "unknown")
    }

    @Test func forwardedForIsIgnoredUnlessTheProxyIsTrusted() {
        let headers: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "1.1.1.1, 2.2.2.2"]
        #expect(ClientAddressResolver(trustedProxies: .none).clientAddress(headers: headers, peer: "10.0.0.1") == "10.0.0.1")
        #expect(ClientAddressResolver(trustedProxies: .hops(1)).clientAddress(headers: headers, peer: "10.0.0.1") == "2.2.2.2")
    }

    @Test func theLastForwardedAddressWinsAcrossHeaderLines() {
        var headers = HTTPFields()
        headers.append(HTTPField(name: HTTPField.Name("X-Forwarded-For")!, value: "6.6.6.6"))
        headers.append(HTTPField(name: HTTPField.Name("X-Forwarded-For")!, value: "7.7.7.7 , 198.51.100.4"))
        let resolver = ClientAddressResolver(trustedProxies: .hops(1))
        #expect(resolver.clientAddress(headers: headers, peer: "10.0.0.1") == "198.51.100.4")
        #expect(resolver.clientAddress(headers: [:], peer: "10.0.0.1") == "10.0.0.1")
    }

    /// An entry that is not an address, where the client should be, is its own bucket:
    /// falling back to the proxy's address put every client behind it in one bucket.
    @Test func anUnparsableClientEntryIsNotTheProxysAddress() {
        let resolver = ClientAddressResolver(trustedProxies: .hops(1))
        let garbage: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "1.1.1.1, not-an-ip"]
        let client = resolver.client(headers: garbage, peer: "10.0.0.1")
        #expect(client.ip == nil)
        #expect(client.rateLimitKey == "forwarded:not-an-ip")
        let other = resolver.client(headers: [HTTPField.Name("X-Forwarded-For")!: "unknown"], peer: "10.0.0.1")
        #expect(other.rateLimitKey != resolver.client(headers: [:], peer: "10.0.0.1").rateLimitKey)
    }

    static let chain = "203.0.113.9, 198.51.100.1, 10.1.2.3, 10.0.0.2"

    /// Express's `trust proxy`: the client is the right-most address not trusted, with
    /// the socket peer as the nearest hop.
    @Test(arguments: [
        ("false", "10.0.0.1"), ("0", "10.0.0.1"), ("true", "10.0.0.2"), ("1", "10.0.0.2"), ("2", "10.1.2.3"),
        ("3", "198.51.100.1"), ("4", "203.0.113.9"), ("5", "203.0.113.9"), ("100", "203.0.113.9"),
        ("10.0.0.0/8", "198.51.100.1"), ("10.0.0.0/8, 198.51.100.0/24", "203.0.113.9"), ("10.0.0.1", "10.0.0.2"),
        ("10.0.0.1,10.0.0.2", "10.1.2.3"), ("192.168.0.0/16", "10.0.0.1"), ("::1/128, 10.0.0.0/8", "198.51.100.1"),
    ])
    func trustedProxiesFindTheClient(setting: String, client: String) throws {
        let proxies = try #require(TrustedProxies(parsing: setting))
        let headers: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: Self.chain]
        #expect(ClientAddressResolver(trustedProxies: proxies).clientAddress(headers: headers, peer: "10.0.0.1") == client)
    }

    /// Behind a CDN and then a load balancer, every client keeps its own address (with
    /// `true` they all had the CDN's).
    @Test func twoProxyLayersKeepClientsApart() throws {
        let resolver = ClientAddressResolver(trustedProxies: try #require(TrustedProxies(parsing: "2")))
        let first: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "198.51.100.7, 203.0.113.250"]
        let second: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "spoofed, 198.51.100.8, 203.0.113.250"]
        #expect(resolver.clientAddress(headers: first, peer: "10.0.0.5") == "198.51.100.7")
        #expect(resolver.clientAddress(headers: second, peer: "10.0.0.5") == "198.51.100.8")
    }

    @Test func peersOutsideTheTrustedNetworksAreTheClient() throws {
        let resolver = ClientAddressResolver(trustedProxies: try #require(TrustedProxies(parsing: "10.0.0.0/8")))
        let headers: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "1.2.3.4"]
        #expect(resolver.clientAddress(headers: headers, peer: "203.0.113.1") == "203.0.113.1")
        #expect(resolver.clientAddress(headers: headers, peer: nil) == nil)
        #expect(resolver.clientAddress(headers: headers, peer: "::ffff:10.9.9.9") == "1.2.3.4")
        let v6 = ClientAddressResolver(trustedProxies: try #require(TrustedProxies(parsing: "2001:db8::/32")))
        #expect(v6.clientAddress(headers: headers, peer: "2001:db8:5::1") == "1.2.3.4")
        #expect(v6.clientAddress(headers: headers, peer: "2001:db9::1") == "2001:db9::1")
    }

    @Test func ipv4MappedNetworksAreTheirIPv4Networks() throws {
        let proxies = try #require(TrustedProxies(parsing: "::FFFF:10.0.0.0/104"))
        #expect(proxies.description == "10.0.0.0/8")
        #expect(TrustedProxies(parsing: "::ffff:10.0.0.0/95") == nil)
        #expect(TrustedProxies(parsing: "::ffff:10.0.0.1")?.description == "10.0.0.1/32")
    }

    /// `ClientInfo` keeps an address only in canonical form: it is stored on sessions.
    @Test func clientInfoKeepsOnlyCanonicalAddresses() {
        #expect(ClientInfo(ip: "2001:DB8::1").ip == "2001:db8::1")
        #expect(ClientInfo(ip: "::ffff:192.0.2.1").ip == "192.0.2.1")
        #expect(ClientInfo(ip: "not\u{0}an address").ip == nil)
        #expect(ClientInfo(ip: "not an address").rateLimitKey == "unknown")
    }

    @Test(arguments: ["", "yes", "-1", "101", "1000", "10.0.0.0/33", "10.0.0.0/", "10.0.0.1:80", "::/129", "10.0.0.0/8,",
                      "10.0.0.0/8,,10.0.0.0/8", "example.com", "[::1]/128", "10.0.0.0/8/8", "0x10"])
    func badTrustProxySettingsAreRefused(setting: String) {
        #expect(TrustedProxies(parsing: setting) == nil)
    }
}

@Suite struct CORSOriginTests {
    @Test(arguments: [
        ("https://app.example.com", "https://app.example.com"), ("HTTPS://App.Example.com/", "https://app.example.com"),
        ("http://localhost:3000", "http://localhost:3000"), ("https://a.example:443", "https://a.example"),
        ("http://a.example:80", "http://a.example"), ("http://[::1]:8080", "http://[::1]:8080"),
    ])
    func originsNormalize(text: String, expected: String) {
        #expect(CORSOrigin.normalize(text) == expected)
    }

    @Test(arguments: ["*", "null", "app.example.com", "ftp://a.example", "https://", "https://a.example/path", "https://a.example?x=1",
                      "https://user@a.example", "https://a.example:0", "https://a.example:99999", "https://a b.example", "https://.example"])
    func nonOriginsAreRefused(text: String) {
        #expect(CORSOrigin.normalize(text) == nil)
    }
}

@Suite struct JSONDuplicateKeyTests {
    @Test(arguments: [
        #"{"role":"user","role":"admin"}"#, #"{"role":"user","\u0072ole":"admin"}"#, #"{"a":{"b":1,"b":2}}"#,
        #"{"a":[{"x":1},{"y":1,"y":2}]}"#, #"{"a":1,"b":"a","a":2}"#,
    ])
    func duplicatesAreFound(json: String) {
        #expect(JSONParser.parse(Array(json.utf8)) == nil)
    }

    @Test(arguments: [
        #"{"role":"user","name":"role"}"#, #"{"a":{"a":1},"b":{"a":2}}"#, #"[{"a":1},{"a":2}]"#, #"{"a\"b":1,"a":2}"#,
        #"{"a":"{\"a\":1,\"a\":2}"}"#, "[]", "{}", #""a""#,
    ])
    func distinctKeysPass(json: String) {
        #expect(JSONParser.parse(Array(json.utf8)) != nil)
    }
}
