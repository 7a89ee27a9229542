import Crypto

/// The keys of a configuration: what signs access tokens (the HS256 access secret, or the
/// private key of an asymmetric `JWT_ALGORITHM`), what signs refresh tokens (always HS256
/// under `JWT_REFRESH_SECRET`: only Gatehouse reads them), and every key each kind of
/// token is verified with, rotation's previous ones included (SPEC.md §3.7).
///
/// HMACs are swift-crypto `HMAC`s that have absorbed their key pads once
/// (`HMAC.init(key:)` does): signing and verifying copy one and hash only the token.
/// Separate keys are half of what keeps one kind of token from passing as the other;
/// the other half is the different, strictly decoded claim types.
public struct SigningKeys: Sendable {
    let accessKey: HMAC<SHA256>
    let refreshKey: HMAC<SHA256>
    /// Signs access tokens when the algorithm is asymmetric.
    let privateKey: JWTPrivateKey?
    /// Verify access tokens: under HS256 the access secret and its previous one, plus any
    /// previous public keys; under an asymmetric algorithm the current public key and the
    /// previous ones, and no secret at all.
    public let access: AccessTokenKeys
    /// Verify refresh tokens: the refresh secret and its previous one.
    let refresh: AccessTokenKeys

    /// Builds the keys from the configured secrets and keys.
    public init(configuration: GatehouseConfiguration) {
        func mac(_ secret: String) -> HMAC<SHA256> { HMAC(key: SymmetricKey(data: Array(secret.utf8))) }
        accessKey = mac(configuration.accessSecret)
        refreshKey = mac(configuration.refreshSecret)
        privateKey = configuration.algorithm.isAsymmetric ? configuration.privateKey : nil
        var publicKeys: [JWTPublicKey] = privateKey.map { [$0.publicKey] } ?? []
        for key in configuration.previousPublicKeys where !publicKeys.contains(where: { $0.kid == key.kid }) {
            publicKeys.append(key)
        }
        let accessMACs = privateKey == nil ? [accessKey] + (configuration.previousAccessSecret.map { [mac($0)] } ?? []) : []
        access = AccessTokenKeys(macs: accessMACs, publicKeys: publicKeys)
        refresh = AccessTokenKeys(macs: [refreshKey] + (configuration.previousRefreshSecret.map { [mac($0)] } ?? []), publicKeys: [])
    }

    /// `GET /.well-known/jwks.json`: every public key access tokens are verified with.
    public var jwks: [UInt8] { access.jwks }
}

/// HS256 signing on bytes, the mirror of `JWS.verifiedPayload`: the fixed header
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
