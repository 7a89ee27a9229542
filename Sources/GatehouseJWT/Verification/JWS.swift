import Foundation
import Crypto

/// Compact JWS on bytes (RFC 7515): signing with a private key, and the structural,
/// header and signature checks of verification. Claims are `ClaimSet`'s and
/// `ClaimRules`'.
package enum JWS {
    /// The header Gatehouse writes for tokens signed by `key`.
    static func header(for key: JWTPublicKey) -> [UInt8] {
        var object = JSONObjectWriter()
        object.string("alg", key.algorithm.rawValue)
        object.string("typ", "JWT")
        object.string("kid", key.kid)
        return object.finish()
    }

    /// The compact JWS of `payload` (JSON text) signed by `key`, with the header
    /// `{"alg":…,"typ":"JWT","kid":…}`.
    package static func sign(payload: [UInt8], key: JWTPrivateKey) throws -> String {
        let signed = Array((Base64URL.encode(header(for: key.publicKey)) + "." + Base64URL.encode(payload)).utf8)
        let signature = try signed.withUnsafeBytes { try key.signature(for: $0) }
        return String(decoding: signed, as: UTF8.self) + "." + Base64URL.encode(signature)
    }

    /// The header segments Gatehouse and common libraries write for HS256, accepted
    /// without parsing.
    static let knownHS256Headers: [[UInt8]] = [
        #"{"alg":"HS256","typ":"JWT"}"#, #"{"typ":"JWT","alg":"HS256"}"#, #"{"alg":"HS256"}"#,
    ].map { Array(Base64URL.encode(Array($0.utf8)).utf8) }

    /// The payload's claims when `token` is a well-formed compact JWS signed by one of
    /// `keys` under that key's algorithm; `nil` otherwise. In order:
    /// 1. at most `maximumLength` bytes, exactly three segments;
    /// 2. the header: a JSON object of `alg`, optional `typ` (exactly `JWT`) and `kid`, no
    ///    other parameter (no `crit`, `jku`, `jwk`, `x5u`, …), no key twice;
    /// 3. the key: for `HS256`, one of the MACs, and no `kid`; for any other `alg`, the
    ///    public key named by `kid`, whose algorithm must be that `alg` — so `none`, an
    ///    HS256 token under a configuration without secrets (whatever it was signed
    ///    with, a public key's bytes included), a missing or unknown `kid`, and a key
    ///    used with another algorithm are all refused;
    /// 4. the signature, canonical base64url, valid for that key;
    /// 5. the payload: a flat JSON object read by `ClaimSet`.
    package static func verifiedPayload(_ token: UnsafeBufferPointer<UInt8>, keys: AccessTokenKeys, maximumLength: Int) -> ClaimSet? {
        guard token.count <= maximumLength else { return nil }
        var firstDot = -1
        var secondDot = -1
        for index in token.indices where token[index] == UInt8(ascii: ".") {
            if firstDot < 0 {
                firstDot = index
            } else if secondDot < 0 {
                secondDot = index
            } else {
                return nil
            }
        }
        guard secondDot >= 0 else { return nil }
        let header = UnsafeBufferPointer(rebasing: token[..<firstDot])
        let payload = UnsafeBufferPointer(rebasing: token[(firstDot + 1)..<secondDot])
        let signature = UnsafeBufferPointer(rebasing: token[(secondDot + 1)...])
        let signed = UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: token[..<secondDot]))
        guard isSigned(header: header, signature: signature, signed: signed, keys: keys), let payloadBytes = Base64URL.decode(payload) else {
            return nil
        }
        return ClaimSet(json: payloadBytes)
    }

    /// Steps 2–4.
    static func isSigned(header: UnsafeBufferPointer<UInt8>, signature: UnsafeBufferPointer<UInt8>, signed: UnsafeRawBufferPointer, keys: AccessTokenKeys) -> Bool {
        if !keys.macs.isEmpty, knownHS256Headers.contains(where: { equal($0, header) }) {
            return isMAC(signature, of: signed, keys: keys.macs)
        }
        for written in keys.writtenHeaders where equal(written.segment, header) {
            return isSignature(signature, of: signed, key: written.key)
        }
        guard let bytes = Base64URL.decode(header), case .object(let object)? = JSONParser.parse(bytes),
              object.keys.allSatisfy({ $0 == "alg" || $0 == "typ" || $0 == "kid" }),
              object["typ"] == nil || object["typ"] == .string("JWT"),
              case .string(let algorithm)? = object["alg"]
        else { return false }
        // `JSONParser` refuses a key given twice, so `{"alg":"none","alg":"HS256"}` never gets here.
        switch object["kid"] {
        case nil where algorithm == JWTAlgorithm.hs256.rawValue:
            return !keys.macs.isEmpty && isMAC(signature, of: signed, keys: keys.macs)
        case .string(let kid)?:
            guard let key = keys.publicKey(kid: kid), key.algorithm.rawValue == algorithm else { return false }
            return isSignature(signature, of: signed, key: key)
        default:
            return false
        }
    }

    static func equal(_ known: [UInt8], _ segment: UnsafeBufferPointer<UInt8>) -> Bool {
        known.count == segment.count && known.withUnsafeBufferPointer { memcmp($0.baseAddress!, segment.baseAddress!, segment.count) == 0 }
    }

    static func isSignature(_ signature: UnsafeBufferPointer<UInt8>, of signed: UnsafeRawBufferPointer, key: JWTPublicKey) -> Bool {
        guard let bytes = Base64URL.decode(signature) else { return false }
        return key.isValidSignature(bytes, for: signed)
    }

    /// Whether `signature` is exactly the unpadded base64url of HMAC-SHA256(`signed`)
    /// under one of `keys`. Comparing encodings rather than decoded bytes also refuses
    /// every other spelling of the same 32 bytes. Constant time in the signature's
    /// content for each key.
    static func isMAC(_ signature: UnsafeBufferPointer<UInt8>, of signed: UnsafeRawBufferPointer, keys: [HMAC<SHA256>]) -> Bool {
        let length = Base64URL.encodedCount(SHA256.byteCount)
        guard signature.count == length else { return false }
        for key in keys {
            var hmac = key
            hmac.update(data: signed)
            let mac = hmac.finalize()
            let matches = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: length) { expected in
                mac.withUnsafeBytes { Base64URL.encode($0, into: expected) }
                var difference: UInt8 = 0
                for index in 0..<length { difference |= expected[index] ^ signature[index] }
                return difference == 0
            }
            if matches { return true }
        }
        return false
    }
}
