import Crypto

/// Every key an access-token verifier accepts, each pinned to its algorithm: HS256 MACs
/// (the current secret first, then a previous one during a rotation) and public keys
/// found by `kid`. A token is checked against the one key its header selects, under
/// that key's algorithm, never the algorithm a token asks for.
public struct AccessTokenKeys: Sendable {
    /// HS256 keys (pads absorbed once by swift-crypto); empty: no HS256 token is accepted.
    let macs: [HMAC<SHA256>]
    /// Public keys, current first.
    public let publicKeys: [JWTPublicKey]
    /// The header segments Gatehouse writes for each public key, accepted by comparison
    /// without parsing.
    let writtenHeaders: [(segment: [UInt8], key: JWTPublicKey)]

    /// Keys from HS256 secrets (UTF-8 bytes) and public keys. A downstream service has only
    /// public keys, from the JWKS.
    public init(secrets: [String] = [], publicKeys: [JWTPublicKey]) {
        self.init(macs: secrets.map { HMAC(key: SymmetricKey(data: Array($0.utf8))) }, publicKeys: publicKeys)
    }

    package init(macs: [HMAC<SHA256>], publicKeys: [JWTPublicKey]) {
        self.macs = macs
        self.publicKeys = publicKeys
        self.writtenHeaders = publicKeys.map { (Array(Base64URL.encode(JWS.header(for: $0)).utf8), $0) }
    }

    /// The public key with `kid`.
    func publicKey(kid: String) -> JWTPublicKey? {
        publicKeys.first { $0.kid.utf8.elementsEqual(kid.utf8) }
    }

    /// The JWK Set of the public keys (RFC 7517 §5): `{"keys":[…]}`, public parameters only.
    public var jwks: [UInt8] {
        var out = Array(#"{"keys":["#.utf8)
        for (index, key) in publicKeys.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out += key.jwk
        }
        out += Array("]}".utf8)
        return out
    }
}
