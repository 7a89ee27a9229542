import Crypto
import CryptoExtras
import Foundation

/// A public key that verifies access tokens, with the one algorithm it verifies and its
/// `kid`: the RFC 7638 thumbprint (base64url SHA-256 of the key's required JWK members
/// in lexicographic order), so the same key has the same `kid` wherever it is computed.
///
/// Ed25519 keys verify `EdDSA`, P-256 keys `ES256`, RSA keys (2048 bits or more) `RS256`;
/// nothing else. The algorithm follows from the key's type, never from a token.
public struct JWTPublicKey: Sendable {
    enum Material: Sendable {
        case ed25519(Curve25519.Signing.PublicKey)
        case p256(P256.Signing.PublicKey)
        case rsa(_RSA.Signing.PublicKey, modulusBytes: Int)
    }

    let material: Material
    /// The algorithm this key verifies, and the only one.
    public let algorithm: JWTAlgorithm
    /// RFC 7638 thumbprint.
    public let kid: String
    /// The required JWK members (RFC 7638 §3.2), sorted by name.
    let members: [(name: String, value: String)]

    init(_ material: Material) throws(JWTKeyError) {
        self.material = material
        switch material {
        case .ed25519(let key):
            algorithm = .edDSA
            members = [("crv", "Ed25519"), ("kty", "OKP"), ("x", Base64URL.encode(key.rawRepresentation))]
        case .p256(let key):
            algorithm = .es256
            let point = Array(key.rawRepresentation)
            members = [("crv", "P-256"), ("kty", "EC"), ("x", Base64URL.encode(point[..<32])), ("y", Base64URL.encode(point[32...]))]
        case .rsa(let key, _):
            algorithm = .rs256
            guard let primitives = try? key.getKeyPrimitives() else { throw .unsupported }
            // RFC 7518 §6.3.1: unsigned big-endian, no leading zero bytes.
            func unsigned(_ data: Data) -> String { Base64URL.encode(data.drop { $0 == 0 }) }
            members = [("e", unsigned(primitives.publicExponent)), ("kty", "RSA"), ("n", unsigned(primitives.modulus))]
        }
        var canonical = JSONObjectWriter()
        for member in members { canonical.string(member.name, member.value) }
        kid = Base64URL.encode(SHA256.hash(data: canonical.finish()))
    }

    /// Reads a public key from PEM: SubjectPublicKeyInfo (`BEGIN PUBLIC KEY`) or PKCS#1
    /// (`BEGIN RSA PUBLIC KEY`). A private key's PEM gives its public key.
    public init(pemRepresentation text: String) throws(JWTKeyError) {
        if text.contains("PRIVATE KEY-----") {
            self = try JWTPrivateKey(pemRepresentation: text).publicKey
            return
        }
        guard let pem = PEM.normalized(text) else { throw .unsupported }
        if PEM.isEd25519(pem, private: false), let key = try? Curve25519.Signing.PublicKey(pemRepresentation: pem) {
            try self.init(.ed25519(key))
        } else if let key = try? P256.Signing.PublicKey(pemRepresentation: pem) {
            try self.init(.p256(key))
        } else if let key = try? _RSA.Signing.PublicKey(pemRepresentation: pem) {
            try self.init(.rsa(key, modulusBytes: (key.keySizeInBits + 7) / 8))
        } else if let key = try? _RSA.Signing.PublicKey(unsafePEMRepresentation: pem) {
            throw .rsaTooSmall(bits: key.keySizeInBits)
        } else {
            throw .unsupported
        }
    }


    /// Reads one key of a JWK Set (RFC 7517): `OKP`/`Ed25519`, `EC`/`P-256` or `RSA`
    /// (2048 bits or more). `nil` for anything else, for a key whose `alg` is not the
    /// one its type verifies, whose `use` is not `sig`, or whose `kid` is not its
    /// thumbprint (so a key set cannot lend one key's `kid` to another).
    public init?(jwk: JSONObject) {
        func text(_ name: String) -> String? {
            if case .string(let value)? = jwk[name] { return value }
            return nil
        }
        func bytes(_ name: String) -> [UInt8]? {
            guard var value = text(name) else { return nil }
            return value.withUTF8 { Base64URL.decode($0) }
        }
        let material: Material
        switch (text("kty"), text("crv")) {
        case ("OKP", "Ed25519"):
            guard let x = bytes("x"), let key = try? Curve25519.Signing.PublicKey(rawRepresentation: x) else { return nil }
            material = .ed25519(key)
        case ("EC", "P-256"):
            guard let x = bytes("x"), let y = bytes("y"), x.count == 32, y.count == 32,
                  let key = try? P256.Signing.PublicKey(rawRepresentation: x + y)
            else { return nil }
            material = .p256(key)
        case ("RSA", nil):
            guard let n = bytes("n"), let e = bytes("e"), let key = try? _RSA.Signing.PublicKey(n: n, e: e) else { return nil }
            material = .rsa(key, modulusBytes: (key.keySizeInBits + 7) / 8)
        default:
            return nil
        }
        guard let key = try? JWTPublicKey(material),
              text("alg").map({ $0 == key.algorithm.rawValue }) ?? true,
              text("use").map({ $0 == "sig" }) ?? true,
              text("kid").map({ $0 == key.kid }) ?? true
        else { return nil }
        self = key
    }

    /// The key as a JWK with `alg`, `kid` and `use`, members sorted: public parameters only.
    public var jwk: [UInt8] {
        var members = self.members
        members += [("alg", algorithm.rawValue), ("kid", kid), ("use", "sig")]
        var object = JSONObjectWriter()
        for member in members.sorted(by: { $0.name < $1.name }) { object.string(member.name, member.value) }
        return object.finish()
    }

    /// The key as SubjectPublicKeyInfo PEM (`BEGIN PUBLIC KEY`).
    public var pemRepresentation: String {
        switch material {
        case .ed25519(let key): key.pemRepresentation
        case .p256(let key): key.pemRepresentation
        case .rsa(let key, _): key.pemRepresentation
        }
    }

    /// Whether `signature` (decoded bytes) is this key's signature of `signed` under its
    /// algorithm. ES256 signatures are JWS's raw `r‖s` (64 bytes; DER is refused by its
    /// length) with `s` in the lower half of the group order, so that no valid token can
    /// be turned into a second valid token by replacing `s` with `n − s`. Ed25519 needs
    /// nothing extra: BoringSSL refuses `S ≥ L`. RSA signatures are exactly the modulus
    /// long.
    func isValidSignature(_ signature: [UInt8], for signed: UnsafeRawBufferPointer) -> Bool {
        switch material {
        case .ed25519(let key):
            return signature.count == 64 && key.isValidSignature(signature, for: signed)
        case .p256(let key):
            guard signature.count == 64, ECDSALowS.isLow(signature[32...]),
                  let ecdsa = try? P256.Signing.ECDSASignature(rawRepresentation: signature)
            else { return false }
            return key.isValidSignature(ecdsa, for: signed)
        case .rsa(let key, let modulusBytes):
            guard signature.count == modulusBytes else { return false }
            return key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: signed, padding: .insecurePKCS1v1_5)
        }
    }
}

/// The low-S rule for P-256 ECDSA signatures: `s ≤ n/2`, where `n` is the group order.
/// Every valid `(r, s)` has a twin `(r, n − s)`; accepting only the low one makes
/// signatures, and so tokens, unique. Gatehouse's signer normalises its own.
enum ECDSALowS {
    /// The P-256 group order `n`, big-endian.
    static let order: [UInt8] = hex("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551")
    /// `⌊n/2⌋`, big-endian.
    static let halfOrder: [UInt8] = hex("7FFFFFFF800000007FFFFFFFFFFFFFFFDE737D56D38BCF4279DCE5617E3192A8")

    static func hex(_ text: String) -> [UInt8] {
        let digits = Array(text.utf8)
        return stride(from: 0, to: digits.count, by: 2).map { digits[$0].hexValue! << 4 | digits[$0 + 1].hexValue! }
    }

    /// Whether the 32-byte big-endian `s` is at most `n/2`.
    static func isLow(_ s: ArraySlice<UInt8>) -> Bool {
        // Equal lengths, big-endian: lexicographic order is numeric order.
        s.count == 32 && !halfOrder.lexicographicallyPrecedes(s)
    }

    /// `n − s` for a 32-byte big-endian `s` (with `0 < s < n`).
    static func negate(_ s: ArraySlice<UInt8>) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: 32)
        var borrow = 0
        for index in (0..<32).reversed() {
            var difference = Int(order[index]) - Int(s[s.startIndex + index]) - borrow
            borrow = difference < 0 ? 1 : 0
            if difference < 0 { difference += 256 }
            result[index] = UInt8(difference)
        }
        return result
    }
}
