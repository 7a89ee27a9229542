/// Strict base64url (RFC 4648 §5) without padding, as JWT segments use it.
package enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Each byte's value in the alphabet, or `0xFF` for bytes outside it.
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(value) }
        return table
    }()

    /// Decodes `text`, or returns `nil` for any character outside the alphabet, padding,
    /// an impossible length, or unused trailing bits that are not zero: every byte string
    /// has exactly one accepted spelling, so no signed token can be re-spelled into a
    /// second valid one.
    package static func decode(_ text: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        // A single leftover character (6 bits) cannot encode a byte.
        guard text.count % 4 != 1 else { return nil }
        var invalid: UInt8 = 0
        let output = values.withUnsafeBufferPointer { values in
            [UInt8](unsafeUninitializedCapacity: text.count * 3 / 4) { output, written in
                var buffer: UInt32 = 0
                var bits: UInt32 = 0
                for byte in text {
                    let value = values[Int(byte)]
                    invalid |= value & 0x80
                    buffer = buffer << 6 | UInt32(value & 0x3F)
                    bits += 6
                    if bits >= 8 {
                        bits -= 8
                        output[written] = UInt8(truncatingIfNeeded: buffer >> bits)
                        written += 1
                    }
                }
                if buffer & ((1 << bits) - 1) != 0 { invalid |= 0x80 }
            }
        }
        return invalid == 0 ? output : nil
    }

    /// Writes the encoding of `bytes` to `output`, which must hold `encodedCount(bytes.count)`
    /// bytes.
    package static func encode(_ bytes: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<UInt8>) {
        alphabet.withUnsafeBufferPointer { alphabet in
            var buffer: UInt32 = 0
            var bits: UInt32 = 0
            var written = 0
            for byte in bytes {
                buffer = buffer << 8 | UInt32(byte)
                bits += 8
                while bits >= 6 {
                    bits -= 6
                    output[written] = alphabet[Int((buffer >> bits) & 0x3F)]
                    written += 1
                }
            }
            if bits > 0 {
                output[written] = alphabet[Int((buffer << (6 - bits)) & 0x3F)]
            }
        }
    }

    /// The length of the unpadded encoding of `count` bytes.
    package static func encodedCount(_ count: Int) -> Int {
        (count * 8 + 5) / 6
    }

    /// Encodes bytes without padding.
    package static func encode(_ bytes: some Sequence<UInt8>) -> String {
        let bytes = Array(bytes)
        return bytes.withUnsafeBytes { bytes in
            String(unsafeUninitializedCapacity: encodedCount(bytes.count)) { output in
                encode(bytes, into: output)
                return encodedCount(bytes.count)
            }
        }
    }
}
