import Foundation

/// What Gatehouse checks of a PEM file itself, before handing it to swift-crypto.
enum PEM {
    /// The DER of the first PEM block (`-----BEGIN …-----` to `-----END …-----`), whatever
    /// the line endings; `nil` when there is none or its body is not base64.
    static func der(_ pem: String) -> [UInt8]? {
        var body = ""
        var inside = false
        for line in pem.split(whereSeparator: \.isNewline).map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if line.hasPrefix("-----BEGIN ") {
                inside = true
            } else if line.hasPrefix("-----END ") {
                return inside ? Data(base64Encoded: body).map(Array.init) : nil
            } else if inside {
                body += line
            }
        }
        return nil
    }

    /// The first PEM block alone, with `\n` line endings and its base64 in 64-character
    /// lines, as swift-crypto's readers expect it: text around the block and `\r\n`
    /// line endings are accepted. `nil` when there is no block.
    static func normalized(_ pem: String) -> String? {
        var label: Substring?
        for line in pem.split(whereSeparator: \.isNewline).map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if label == nil, line.hasPrefix("-----BEGIN "), line.hasSuffix("-----") {
                label = line.dropFirst("-----BEGIN ".count).dropLast(5)
                break
            }
        }
        guard let label, let der = der(pem) else { return nil }
        let base64 = Data(der).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        return "-----BEGIN \(label)-----\n\(base64)\n-----END \(label)-----\n"
    }

    /// DER of an Ed25519 PKCS#8 private key (RFC 8410 §7) before its 32 bytes.
    static let ed25519PrivatePrefix: [UInt8] = [0x30, 0x2E, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]
    /// DER of an Ed25519 SubjectPublicKeyInfo (RFC 8410 §4) before its 32 bytes.
    static let ed25519PublicPrefix: [UInt8] = [0x30, 0x2A, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x03, 0x21, 0x00]

    /// Whether the PEM is exactly an Ed25519 key (OID 1.3.101.112) of that kind.
    /// swift-crypto's PKCS#8 reader does not check the algorithm, so without this an
    /// X25519 key would be read as a signing key.
    static func isEd25519(_ pem: String, private: Bool) -> Bool {
        guard let der = der(pem) else { return false }
        let prefix = `private` ? ed25519PrivatePrefix : ed25519PublicPrefix
        return der.count == prefix.count + 32 && der.starts(with: prefix)
    }
}
