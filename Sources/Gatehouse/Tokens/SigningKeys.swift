import Crypto
import Foundation
import JWTKit

/// The two HS256 keys: one for access tokens, one for refresh tokens (JWTKit signs;
/// `TokenVerifier` verifies with the raw keys).
///
/// Separate keys are half of what keeps one kind of token from passing as the other;
/// the other half is the different, strictly decoded claim types.
public struct SigningKeys: Sendable {
    let access: JWTKeyCollection
    let refresh: JWTKeyCollection
    /// The same secrets as swift-crypto HMACs that have absorbed their key pads
    /// (`HMAC.init(key:)` does), for `TokenVerifier`: each verification copies one and
    /// hashes only the token.
    let accessKey: HMAC<SHA256>
    let refreshKey: HMAC<SHA256>

    /// Builds the key collections from the configured secrets.
    public init(configuration: GatehouseConfiguration) async {
        self.accessKey = HMAC(key: SymmetricKey(data: Array(configuration.accessSecret.utf8)))
        self.refreshKey = HMAC(key: SymmetricKey(data: Array(configuration.refreshSecret.utf8)))
        self.access = await JWTKeyCollection()
            .add(hmac: HMACKey(from: configuration.accessSecret), digestAlgorithm: .sha256, serializer: Self.serializer)
        self.refresh = await JWTKeyCollection()
            .add(hmac: HMACKey(from: configuration.refreshSecret), digestAlgorithm: .sha256, serializer: Self.serializer)
    }

    /// Sorted keys make signing deterministic: the same claims always give the same
    /// token, so the grace window can hand back the session's current refresh token
    /// byte for byte (Foundation on Linux otherwise orders keys at random).
    static var serializer: DefaultJWTSerializer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        encoder.dateEncodingStrategy = .secondsSince1970
        return DefaultJWTSerializer(jsonEncoder: encoder)
    }
}
