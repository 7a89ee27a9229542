/// The signature algorithm of access tokens (`JWT_ALGORITHM`, SPEC.md §3.7).
public enum JWTAlgorithm: String, Sendable, CaseIterable {
    /// HMAC-SHA256 under `JWT_ACCESS_SECRET`: only holders of the secret can verify.
    case hs256 = "HS256"
    /// Ed25519 (RFC 8037): small keys, fast, deterministic signatures. The recommended
    /// asymmetric choice.
    case edDSA = "EdDSA"
    /// ECDSA on P-256 with SHA-256 (RFC 7518 §3.4).
    case es256 = "ES256"
    /// RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3), for verifiers that know nothing else.
    case rs256 = "RS256"

    /// Whether tokens are signed with a private key and verified with its public key.
    public var isAsymmetric: Bool { self != .hs256 }

    /// The names `JWT_ALGORITHM` accepts, for messages.
    public static let names = allCases.map(\.rawValue).joined(separator: ", ")
}

/// Why a key could not be read or made. `description` is a sentence fragment that
/// follows the variable's name in a configuration error ("JWT_PRIVATE_KEY_FILE …").
public enum JWTKeyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not a PEM key of a supported type.
    case unsupported
    /// An encrypted private key: Gatehouse reads keys without a passphrase.
    case encrypted
    /// An RSA key under 2048 bits.
    case rsaTooSmall(bits: Int)
    /// `HS256` has no key pair.
    case symmetricAlgorithm

    public var description: String {
        switch self {
        case .unsupported:
            "must hold a PEM key: Ed25519, P-256 or RSA (2048 bits or more); private keys in PKCS#8 "
                + "(BEGIN PRIVATE KEY), SEC1 (BEGIN EC PRIVATE KEY) or PKCS#1 (BEGIN RSA PRIVATE KEY), "
                + "public keys in SubjectPublicKeyInfo (BEGIN PUBLIC KEY)"
        case .encrypted: "holds an encrypted key; decrypt it first (openssl pkey -in KEY -out PLAIN)"
        case .rsaTooSmall(let bits): "holds a \(bits)-bit RSA key; RSA keys must have at least 2048 bits"
        case .symmetricAlgorithm: "HS256 has no key pair"
        }
    }
}
