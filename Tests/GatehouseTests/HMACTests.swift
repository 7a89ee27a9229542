import Crypto
import Foundation
import Testing

@testable import Gatehouse

/// `HMACSHA256Key` precomputes the pads; it must agree with swift-crypto's HMAC for every
/// key length, including keys longer than the block (which HMAC hashes first).
@Suite struct HMACTests {
    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    static func ours(key: [UInt8], message: [UInt8]) -> String {
        message.withUnsafeBytes { hex(HMACSHA256Key(key).authenticationCode(for: $0)) }
    }

    /// RFC 4231 §4.2, §4.3, §4.7 (a 131-byte key).
    @Test func rfc4231Vectors() {
        #expect(Self.ours(key: Array(repeating: 0x0B, count: 20), message: Array("Hi There".utf8))
            == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        #expect(Self.ours(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
            == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        #expect(Self.ours(key: Array(repeating: 0xAA, count: 131), message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8))
            == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    @Test(arguments: [0, 1, 31, 32, 63, 64, 65, 128, 200])
    func agreesWithSwiftCrypto(keyLength: Int) {
        let key = (0..<keyLength).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }
        for messageLength in [0, 1, 55, 56, 64, 300, 8_192] {
            let message = (0..<messageLength).map { UInt8(truncatingIfNeeded: $0 &* 17 &+ 3) }
            let theirs = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key))
            #expect(Self.ours(key: key, message: message) == Self.hex(theirs), "key \(keyLength), message \(messageLength)")
        }
    }

    /// One key verifies many messages: the precomputed states must not be consumed.
    @Test func aKeyIsReusable() {
        let key = HMACSHA256Key(Array("secret".utf8))
        let first = Array("first".utf8).withUnsafeBytes { Self.hex(key.authenticationCode(for: $0)) }
        _ = Array("second".utf8).withUnsafeBytes { key.authenticationCode(for: $0) }
        #expect(Array("first".utf8).withUnsafeBytes { Self.hex(key.authenticationCode(for: $0)) } == first)
    }
}
