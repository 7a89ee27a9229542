/// The claims of a JWT payload, parsed strictly by a small parser of our own.
///
/// A payload is a flat JSON object whose values Gatehouse reads as strings, integers or
/// (for `aud`) an array of strings. Anything else — a fraction, an exponent, a number
/// that does not fit 64 bits, `true`, `null`, a nested object, a key given twice,
/// invalid UTF-8, a lone surrogate, trailing bytes — makes the whole token invalid.
/// This replaces Foundation's `JSONDecoder` on the path every authenticated request
/// takes, and gives one answer where parsers disagree (duplicate keys).
///
/// The members are kept in order in an array and found by linear search: a token has
/// about ten claims, for which comparing short strings beats hashing them. Only payloads
/// whose signature has been verified reach this parser, so no stranger controls their size.
struct ClaimSet {
    enum Value: Equatable {
        case string(String)
        case integer(Int)
        case strings([String])
    }

    private(set) var members: [(key: String, value: Value)] = []

    /// Parses `bytes`; `nil` when they are not such an object.
    init?(json bytes: [UInt8]) {
        var parser = Parser(bytes: bytes)
        guard let members = parser.object(), parser.atEnd() else { return nil }
        self.members = members
    }

    /// The value of member `key`, if present.
    subscript(key: String) -> Value? {
        members.first { $0.key == key }?.value
    }

    func string(_ key: String) -> String? {
        if case .string(let value)? = self[key] { return value }
        return nil
    }

    func integer(_ key: String) -> Int? {
        if case .integer(let value)? = self[key] { return value }
        return nil
    }

    /// `.some(nil)` when absent, `.some(value)` when an integer, `nil` (invalid) otherwise.
    func optionalInteger(_ key: String) -> Int?? {
        guard let value = self[key] else { return .some(nil) }
        if case .integer(let number) = value { return .some(number) }
        return nil
    }

    /// A UUID in its 36-character form, returned in lower case.
    func uuid(_ key: String) -> String? {
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
    func audience() -> String?? {
        switch self["aud"] {
        case nil: return .some(nil)
        case .string(let value)?: return .some(value)
        case .strings(let values)? where values.count == 1: return .some(values[0])
        default: return nil
        }
    }

    private struct Parser {
        let bytes: [UInt8]
        var index = 0

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        mutating func consume(_ byte: UInt8) -> Bool {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        mutating func atEnd() -> Bool {
            skipWhitespace()
            return index == bytes.count
        }

        mutating func object() -> [(key: String, value: Value)]? {
            guard consume(UInt8(ascii: "{")) else { return nil }
            var members: [(key: String, value: Value)] = []
            members.reserveCapacity(12)
            if consume(UInt8(ascii: "}")) { return members }
            repeat {
                skipWhitespace()
                guard let key = string(), consume(UInt8(ascii: ":")), let value = value(),
                      !members.contains(where: { $0.key == key })
                else { return nil }
                members.append((key, value))
            } while consume(UInt8(ascii: ","))
            return consume(UInt8(ascii: "}")) ? members : nil
        }

        mutating func value() -> Value? {
            skipWhitespace()
            guard index < bytes.count else { return nil }
            switch bytes[index] {
            case UInt8(ascii: "\""):
                return string().map(Value.string)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                return integer().map(Value.integer)
            case UInt8(ascii: "["):
                index += 1
                var strings: [String] = []
                if consume(UInt8(ascii: "]")) { return .strings(strings) }
                repeat {
                    skipWhitespace()
                    guard let element = string() else { return nil }
                    strings.append(element)
                } while consume(UInt8(ascii: ","))
                return consume(UInt8(ascii: "]")) ? .strings(strings) : nil
            default:
                return nil
            }
        }

        /// `-?(0|[1-9][0-9]*)` within 64 bits; a fraction or exponent is refused.
        mutating func integer() -> Int? {
            let negative = bytes[index] == UInt8(ascii: "-")
            if negative { index += 1 }
            let start = index
            var magnitude = 0
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
                let (times, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times.addingReportingOverflow(Int(bytes[index] - UInt8(ascii: "0")))
                guard !overflow1, !overflow2 else { return nil }
                magnitude = sum
                index += 1
            }
            let digits = index - start
            guard digits > 0, !(digits > 1 && bytes[start] == UInt8(ascii: "0")) else { return nil }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") || bytes[index] | 0x20 == UInt8(ascii: "e") { return nil }
            return negative ? -magnitude : magnitude
        }

        /// A JSON string at `index` (which must be its opening quote), escapes resolved.
        mutating func string() -> String? {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
            index += 1
            // Most strings have no escapes: validate them where they lie.
            var end = index
            while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\"), bytes[end] >= 0x20 { end += 1 }
            if end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
                defer { index = end + 1 }
                return bytes.withUnsafeBufferPointer { Self.validString(UnsafeBufferPointer(rebasing: $0[index..<end])) }
            }
            var output: [UInt8] = []
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return output.withUnsafeBufferPointer { Self.validString($0) }
                case UInt8(ascii: "\\"):
                    guard index < bytes.count else { return nil }
                    let escape = bytes[index]
                    index += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): output.append(escape)
                    case UInt8(ascii: "b"): output.append(0x08)
                    case UInt8(ascii: "f"): output.append(0x0C)
                    case UInt8(ascii: "n"): output.append(0x0A)
                    case UInt8(ascii: "r"): output.append(0x0D)
                    case UInt8(ascii: "t"): output.append(0x09)
                    case UInt8(ascii: "u"):
                        guard var scalar = hex4() else { return nil }
                        if (0xD800...0xDBFF).contains(scalar) {
                            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else { return nil }
                            index += 2
                            guard let low = hex4(), (0xDC00...0xDFFF).contains(low) else { return nil }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let unicode = Unicode.Scalar(scalar) else { return nil }
                        output.append(contentsOf: Array(String(Character(unicode)).utf8))
                    default:
                        return nil
                    }
                case 0x00..<0x20:
                    return nil
                default:
                    output.append(byte)
                }
            }
            return nil
        }

        /// `bytes` as a string if they are valid UTF-8. ASCII (nearly every claim) is
        /// valid as it stands and skips the generic validator.
        static func validString(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
            var high: UInt8 = 0
            for byte in bytes { high |= byte }
            return high < 0x80 ? String(decoding: bytes, as: UTF8.self) : String(validating: bytes, as: UTF8.self)
        }

        mutating func hex4() -> UInt32? {
            guard index + 4 <= bytes.count else { return nil }
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard let digit = bytes[index].hexValue else { return nil }
                value = value << 4 | UInt32(digit)
                index += 1
            }
            return value
        }
    }
}

extension UInt8 {
    var isHexDigit: Bool { hexValue != nil }

    var hexValue: UInt8? {
        switch self {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): self - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): self - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): self - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
