import Crypto
import CryptoExtras
import Foundation

/// The private key that signs access tokens under an asymmetric `JWT_ALGORITHM`.
/// `description` never shows it.
public struct JWTPrivateKey: Sendable, CustomStringConvertible {
    enum Material: Sendable {
        case ed25519(Curve25519.Signing.PrivateKey)
        case p256(P256.Signing.PrivateKey)
        case rsa(_RSA.Signing.PrivateKey)
    }

    let material: Material
    /// Its public key, which verifies what it signs and is published in the JWKS.
    public let publicKey: JWTPublicKey

    /// The algorithm it signs with.
    public var algorithm: JWTAlgorithm { publicKey.algorithm }

    init(_ material: Material) throws(JWTKeyError) {
        self.material = material
        switch material {
        case .ed25519(let key): publicKey = try JWTPublicKey(.ed25519(key.publicKey))
        case .p256(let key): publicKey = try JWTPublicKey(.p256(key.publicKey))
        case .rsa(let key): publicKey = try JWTPublicKey(.rsa(key.publicKey, modulusBytes: (key.keySizeInBits + 7) / 8))
        }
    }

    /// Reads a private key from PEM: PKCS#8 (`BEGIN PRIVATE KEY`, what `openssl genpkey`
    /// and `gatehouse keys generate` write) for all three types, and also SEC1
    /// (`BEGIN EC PRIVATE KEY`) for P-256 and PKCS#1 (`BEGIN RSA PRIVATE KEY`) for RSA.
    public init(pemRepresentation text: String) throws(JWTKeyError) {
        if text.contains("BEGIN ENCRYPTED PRIVATE KEY") || text.contains("Proc-Type: 4,ENCRYPTED") { throw .encrypted }
        guard let pem = PEM.normalized(text) else { throw .unsupported }
        if PEM.isEd25519(pem, private: true), let key = try? Curve25519.Signing.PrivateKey(pemRepresentation: pem) {
            try self.init(.ed25519(key))
        } else if let key = try? P256.Signing.PrivateKey(pemRepresentation: pem) {
            try self.init(.p256(key))
        } else if let key = try? _RSA.Signing.PrivateKey(pemRepresentation: pem) {
            try self.init(.rsa(key))
        } else if let key = try? _RSA.Signing.PrivateKey(unsafePEMRepresentation: pem) {
            throw .rsaTooSmall(bits: key.keySizeInBits)
        } else {
            throw .unsupported
        }
    }

    /// A new random key for `algorithm` (RSA: 2048 bits).
    public static func generate(_ algorithm: JWTAlgorithm) throws(JWTKeyError) -> JWTPrivateKey {
        switch algorithm {
        case .hs256: throw .symmetricAlgorithm
        case .edDSA: return try JWTPrivateKey(.ed25519(Curve25519.Signing.PrivateKey()))
        case .es256: return try JWTPrivateKey(.p256(P256.Signing.PrivateKey()))
        case .rs256:
            guard let key = try? _RSA.Signing.PrivateKey(keySize: .bits2048) else { throw .unsupported }
            return try JWTPrivateKey(.rsa(key))
        }
    }

    /// The key as PKCS#8 PEM (`BEGIN PRIVATE KEY`).
    public var pemRepresentation: String {
        switch material {
        case .ed25519(let key): key.pemRepresentation
        case .p256(let key): key.pemRepresentation
        case .rsa(let key): key.pkcs8PEMRepresentation
        }
    }

    public var description: String { "JWTPrivateKey(\(algorithm.rawValue), kid: \(publicKey.kid))" }

    /// The JWS signature of `signed` (`header.payload`): Ed25519's 64 bytes, ES256's raw
    /// `r‖s` with low `s` (see `ECDSALowS`), or RS256's PKCS#1 v1.5 block.
    func signature(for signed: UnsafeRawBufferPointer) throws -> [UInt8] {
        switch material {
        case .ed25519(let key):
            return Array(try key.signature(for: signed))
        case .p256(let key):
            let raw = Array(try key.signature(for: signed).rawRepresentation)
            return ECDSALowS.isLow(raw[32...]) ? raw : Array(raw[..<32]) + ECDSALowS.negate(raw[32...])
        case .rsa(let key):
            return Array(try key.signature(for: signed, padding: .insecurePKCS1v1_5).rawRepresentation)
        }
    }
}
