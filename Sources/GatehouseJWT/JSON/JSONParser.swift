/// A JSON value as Gatehouse reads it: request bodies, token headers and token payloads
/// all go through `JSONParser`, so no input is read two ways.
///
/// Objects keep their members in order; numbers keep their value only when it is an
/// integer that fits 64 bits (what tokens carry); any other number is `.number`.
public enum JSONValue: Sendable, Equatable {
    case string(String)
    /// An integer without fraction or exponent that fits 64 bits.
    case integer(Int)
    /// Any other number (fraction, exponent, or beyond 64 bits).
    case number
    case bool(Bool)
    case null
    case array([JSONValue])
    case object(JSONObject)
}

/// A JSON object's members, in the order written; no key appears twice (the parser
/// refuses such text).
public struct JSONObject: Sendable, Equatable {
    /// The members in order.
    public let members: [(key: String, value: JSONValue)]

    package init(_ members: [(key: String, value: JSONValue)]) {
        self.members = members
    }

    /// The value of member `key` (compared by code points), if present.
    public subscript(key: String) -> JSONValue? {
        members.first { $0.key.utf8.elementsEqual(key.utf8) }?.value
    }

    /// The member names, in order.
    public var keys: [String] { members.map(\.key) }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.members.count == rhs.members.count
            && zip(lhs.members, rhs.members).allSatisfy { $0.key.utf8.elementsEqual($1.key.utf8) && $0.value == $1.value }
    }
}

/// An object key compared and hashed by its UTF-8 bytes.
package struct JSONKey: Hashable {
    package let text: String

    package init(_ text: String) {
        self.text = text
    }

    package static func == (lhs: JSONKey, rhs: JSONKey) -> Bool {
        lhs.text.utf8.elementsEqual(rhs.text.utf8)
    }

    package func hash(into hasher: inout Hasher) {
        for byte in text.utf8 { hasher.combine(byte) }
    }
}

/// A strict RFC 8259 parser, written here rather than taken from Foundation because
/// Foundation's parser on Linux accepts what RFC 8259 does not (trailing commas,
/// `NaN`, …) and keeps the first of two equal keys where other parsers keep the last:
/// text that means different things to different readers is refused, not guessed at.
///
/// Refused: trailing commas, comments, single quotes, `NaN`/`Infinity`, a leading `+`,
/// leading zeros, unescaped control characters, invalid UTF-8, lone surrogates, a key
/// given twice in one object (compared after escapes), nesting deeper than
/// `maximumDepth`, and anything after the value but white space.
public enum JSONParser {
    /// Deepest nesting of arrays and objects accepted.
    public static let maximumDepth = 32

    /// Parses `bytes` as one JSON text; `nil` when it is not one by the rules above.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> JSONValue? {
        var parser = Parser(bytes: bytes)
        guard let value = parser.value(depth: 0), parser.atEnd() else { return nil }
        return value
    }

    /// Parses `bytes` as one JSON text; `nil` when it is not one.
    public static func parse(_ bytes: [UInt8]) -> JSONValue? {
        bytes.withUnsafeBufferPointer { parse($0) }
    }

    struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
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

        mutating func value(depth: Int) -> JSONValue? {
            skipWhitespace()
            guard index < bytes.count else { return nil }
            switch bytes[index] {
            case UInt8(ascii: "\""): return string().map(JSONValue.string)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return number()
            case UInt8(ascii: "{"): return depth < JSONParser.maximumDepth ? object(depth: depth + 1).map(JSONValue.object) : nil
            case UInt8(ascii: "["): return depth < JSONParser.maximumDepth ? array(depth: depth + 1) : nil
            case UInt8(ascii: "t"): return literal("true") ? .bool(true) : nil
            case UInt8(ascii: "f"): return literal("false") ? .bool(false) : nil
            case UInt8(ascii: "n"): return literal("null") ? .null : nil
            default: return nil
            }
        }

        mutating func literal(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard bytes.count - index >= count else { return false }
            for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { return false }
            index += count
            return true
        }

        mutating func object(depth: Int) -> JSONObject? {
            index += 1
            var members: [(key: String, value: JSONValue)] = []
            members.reserveCapacity(12)
            // Small objects (every token, every request body) are checked for repeated
            // keys by comparison; large ones through a set, so 64 KiB of short keys
            // stays linear. Keys are compared by their code points, as RFC 8259 has
            // it, not by Swift's canonical equivalence ("K" and U+212A differ).
            var seen: Set<JSONKey>?
            if consume(UInt8(ascii: "}")) { return JSONObject(members) }
            repeat {
                skipWhitespace()
                guard let key = string(), consume(UInt8(ascii: ":")), let value = value(depth: depth) else { return nil }
                if seen != nil {
                    guard seen!.insert(JSONKey(key)).inserted else { return nil }
                } else {
                    guard !members.contains(where: { $0.key.utf8.elementsEqual(key.utf8) }) else { return nil }
                    if members.count == 16 { seen = Set(members.map { JSONKey($0.key) } + [JSONKey(key)]) }
                }
                members.append((key, value))
            } while consume(UInt8(ascii: ","))
            return consume(UInt8(ascii: "}")) ? JSONObject(members) : nil
        }

        mutating func array(depth: Int) -> JSONValue? {
            index += 1
            var elements: [JSONValue] = []
            if consume(UInt8(ascii: "]")) { return .array(elements) }
            repeat {
                guard let element = value(depth: depth) else { return nil }
                elements.append(element)
            } while consume(UInt8(ascii: ","))
            return consume(UInt8(ascii: "]")) ? .array(elements) : nil
        }

        /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`; `.integer` when there is no
        /// fraction or exponent and the value fits 64 bits.
        mutating func number() -> JSONValue? {
            let negative = bytes[index] == UInt8(ascii: "-")
            if negative { index += 1 }
            let start = index
            var magnitude = 0
            var fits = true
            while index < bytes.count, bytes[index].isDigit {
                let (times, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times.addingReportingOverflow(Int(bytes[index] - UInt8(ascii: "0")))
                if overflow1 || overflow2 { fits = false }
                magnitude = sum
                index += 1
            }
            let digits = index - start
            guard digits > 0, !(digits > 1 && bytes[start] == UInt8(ascii: "0")) else { return nil }
            var integral = true
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                guard digitRun() else { return nil }
                integral = false
            }
            if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                guard digitRun() else { return nil }
                integral = false
            }
            guard integral, fits else { return .number }
            // -2^63 has no positive counterpart: its magnitude overflowed above.
            return .integer(negative ? -magnitude : magnitude)
        }

        mutating func digitRun() -> Bool {
            let start = index
            while index < bytes.count, bytes[index].isDigit { index += 1 }
            return index > start
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
                return Self.validString(UnsafeBufferPointer(rebasing: bytes[index..<end]))
            }
            var output: [UInt8] = Array(bytes[index..<end])
            index = end
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
                        // A lone low surrogate is not a scalar either.
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
    package var isDigit: Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) }

    package var isHexDigit: Bool { hexValue != nil }

    package var hexValue: UInt8? {
        switch self {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): self - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): self - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): self - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
