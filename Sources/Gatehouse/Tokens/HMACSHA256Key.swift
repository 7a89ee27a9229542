import Crypto

/// An HMAC-SHA256 key (RFC 2104) whose inner and outer pads are absorbed once, when the
/// key is made, instead of on every token: a verification then hashes only the token.
///
/// Tested against swift-crypto's `HMAC<SHA256>` (RFC 4231 vectors, keys shorter than,
/// equal to and longer than the 64-byte block).
struct HMACSHA256Key: Sendable {
    /// SHA-256 after absorbing `key ⊕ ipad`, and after `key ⊕ opad`.
    private let inner: SHA256
    private let outer: SHA256

    init(_ key: [UInt8]) {
        var block = key.count > SHA256.blockByteCount ? Array(SHA256.hash(data: key)) : key
        block += repeatElement(0, count: SHA256.blockByteCount - block.count)
        var inner = SHA256()
        inner.update(data: block.map { $0 ^ 0x36 })
        var outer = SHA256()
        outer.update(data: block.map { $0 ^ 0x5C })
        self.inner = inner
        self.outer = outer
    }

    /// HMAC-SHA256 of `message`.
    func authenticationCode(for message: UnsafeRawBufferPointer) -> SHA256.Digest {
        var inner = self.inner
        inner.update(bufferPointer: message)
        var outer = self.outer
        inner.finalize().withUnsafeBytes { outer.update(bufferPointer: $0) }
        return outer.finalize()
    }
}
