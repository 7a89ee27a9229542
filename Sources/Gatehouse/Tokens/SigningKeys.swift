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
    /// The same secrets as HMAC keys with their pads precomputed, for `TokenVerifier`.
    let accessKey: HMACSHA256Key
    let refreshKey: HMACSHA256Key

    /// Builds the key collections from the configured secrets.
    public init(configuration: GatehouseConfiguration) async {
        self.accessKey = HMACSHA256Key(Array(configuration.accessSecret.utf8))
        self.refreshKey = HMACSHA256Key(Array(configuration.refreshSecret.utf8))
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
