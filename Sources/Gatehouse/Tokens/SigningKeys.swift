import Crypto

/// The two HS256 keys: one for access tokens, one for refresh tokens, as swift-crypto
/// HMACs that have absorbed their key pads once (`HMAC.init(key:)` does): signing and
/// verifying copy one and hash only the token.
///
/// Separate keys are half of what keeps one kind of token from passing as the other;
/// the other half is the different, strictly decoded claim types.
public struct SigningKeys: Sendable {
    let accessKey: HMAC<SHA256>
    let refreshKey: HMAC<SHA256>

    /// Builds the keys from the configured secrets.
    public init(configuration: GatehouseConfiguration) {
        self.accessKey = HMAC(key: SymmetricKey(data: Array(configuration.accessSecret.utf8)))
        self.refreshKey = HMAC(key: SymmetricKey(data: Array(configuration.refreshSecret.utf8)))
    }
}

/// HS256 signing on bytes, the mirror of `TokenVerifier`: the fixed header
/// `{"alg":"HS256","typ":"JWT"}`, the claims written by the project's JSON writer with
/// sorted keys and integer times, and the HMAC of the key. The same claims always give
/// the same token, byte for byte, which is how the grace window hands back the session's
/// current refresh token without storing it.
enum HS256 {
    /// base64url of `{"alg":"HS256","typ":"JWT"}`, followed by the dot.
    static let headerSegment = Array((Base64URL.encode(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8)) + ".").utf8)

    /// The compact JWS of `payload` (JSON text) under `key`.
    static func sign(payload: [UInt8], key: HMAC<SHA256>) -> String {
        let payloadLength = Base64URL.encodedCount(payload.count)
        let signatureLength = Base64URL.encodedCount(SHA256.byteCount)
        let signedLength = headerSegment.count + payloadLength
        let total = signedLength + 1 + signatureLength
        return String(unsafeUninitializedCapacity: total) { output in
            _ = output.initialize(fromContentsOf: headerSegment)
            payload.withUnsafeBytes { bytes in
                Base64URL.encode(bytes, into: UnsafeMutableBufferPointer(rebasing: output[headerSegment.count..<signedLength]))
            }
            var mac = key
            mac.update(data: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: output[..<signedLength])))
            output[signedLength] = UInt8(ascii: ".")
            mac.finalize().withUnsafeBytes { bytes in
                Base64URL.encode(bytes, into: UnsafeMutableBufferPointer(rebasing: output[(signedLength + 1)...]))
            }
            return total
        }
    }
}
