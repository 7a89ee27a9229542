/// The claims of a JWT payload, read by `JSONParser` (the same strict parser as every
/// request body and token header).
///
/// A payload is a flat JSON object whose values Gatehouse reads as strings, integers or
/// (for `aud`) an array of strings. Anything else — a fraction, an exponent, a number
/// that does not fit 64 bits, `true`, `null`, a nested object, a key given twice,
/// invalid UTF-8, a lone surrogate, trailing bytes — makes the whole token invalid, so a
/// signed token cannot carry values that some other reader would interpret differently.
package struct ClaimSet {
    package let object: JSONObject

    /// Parses `bytes`; `nil` when they are not such an object.
    package init?(json bytes: [UInt8]) {
        guard case .object(let object)? = JSONParser.parse(bytes) else { return nil }
        for member in object.members {
            switch member.value {
            case .string, .integer: continue
            case .array(let elements) where elements.allSatisfy({ if case .string = $0 { true } else { false } }): continue
            default: return nil
            }
        }
        self.object = object
    }

    /// The value of member `key`, if present.
    package subscript(key: String) -> JSONValue? {
        object[key]
    }

    package func string(_ key: String) -> String? {
        if case .string(let value)? = self[key] { return value }
        return nil
    }

    package func integer(_ key: String) -> Int? {
        if case .integer(let value)? = self[key] { return value }
        return nil
    }

    /// `.some(nil)` when absent, `.some(value)` when an integer, `nil` (invalid) otherwise.
    package func optionalInteger(_ key: String) -> Int?? {
        guard let value = self[key] else { return .some(nil) }
        if case .integer(let number) = value { return .some(number) }
        return nil
    }

    /// A UUID in its 36-character form, returned in lower case.
    package func uuid(_ key: String) -> String? {
        guard var text = string(key), text.utf8.count == 36 else { return nil }
        let upperCase = text.withUTF8 { bytes -> Bool? in
            var upperCase = false
            for offset in 0..<36 {
                let byte = bytes[offset]
                if offset == 8 || offset == 13 || offset == 18 || offset == 23 {
                    guard byte == UInt8(ascii: "-") else { return nil }
                } else {
                    guard byte.isHexDigit else { return nil }
                    upperCase = upperCase || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
                }
            }
            return upperCase
        }
        guard let upperCase else { return nil }
        return upperCase ? text.lowercased() : text
    }

    /// `aud`: RFC 7519 allows a string or an array of strings; Gatehouse tokens have one
    /// audience. `.some(nil)` when absent, `nil` when malformed.
    package func audience() -> String?? {
        switch self["aud"] {
        case nil: return .some(nil)
        case .string(let value)?: return .some(value)
        case .array(let values)? where values.count == 1:
            if case .string(let value) = values[0] { return .some(value) }
            return nil
        default: return nil
        }
    }
}
