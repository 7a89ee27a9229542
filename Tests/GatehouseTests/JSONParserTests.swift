import Foundation
import PropertyBased
import Testing

@testable import Gatehouse

/// `JSONParser`: strict RFC 8259, the one reader of request bodies, token headers and
/// token payloads.
@Suite struct JSONParserTests {
    static func parse(_ text: String) -> JSONValue? { JSONParser.parse(Array(text.utf8)) }

    /// What Foundation's parser on Linux accepted and RFC 8259 does not, and more.
    @Test(arguments: [
        #"{"email":"a",}"#, #"["a",]"#, #"{"a":1,,"b":2}"#, #"[1,,2]"#, #"{"a":1}//"#, #"{"a":/* c */1}"#, "{'a':1}", #"{"a":'b'}"#,
        #"{"a":NaN}"#, #"{"a":Infinity}"#, #"{"a":-Infinity}"#, #"{"a":+1}"#, #"{"a":01}"#, #"{"a":-01}"#, #"{"a":1.}"#, #"{"a":.5}"#,
        #"{"a":1e}"#, #"{"a":1e+}"#, #"{"a":0x10}"#, "{\"a\":\"x\ty\"}", "{\"a\":\"x\ny\"}", "{\"a\":\"\u{0}\"}", #"{"a":"\ud800"}"#,
        #"{"a":"\udc00"}"#, #"{"a":"\ud800\u0041"}"#, #"{"a":"\x41"}"#, #"{"a":"\u12"}"#, #"{"a":1,"a":2}"#, #"{"a":1,"\u0061":2}"#,
        #"{"a":{"b":1,"b":2}}"#, "", " ", "{", "}", "[", #"{"a"}"#, #"{"a":}"#, #"{a:1}"#, #"{"a":1} {"b":2}"#, #"{"a":1}x"#,
        "tru", "nul", "True", "NULL", #""abc"#, "\u{FEFF}{}", #"{"a":[1,2}"#, #"{"a":"\"}"#,
    ])
    func nonJSONIsRefused(text: String) {
        #expect(Self.parse(text) == nil)
    }

    @Test func invalidUTF8IsRefused() {
        #expect(JSONParser.parse(Array(#"{"a":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)) == nil)
        #expect(JSONParser.parse(Array(#"{"a":""#.utf8) + [0xED, 0xA0, 0x80] + Array(#""}"#.utf8)) == nil)
        #expect(JSONParser.parse([0xFF]) == nil)
    }

    @Test func nestingIsBounded() {
        let deepest = String(repeating: "[", count: JSONParser.maximumDepth) + String(repeating: "]", count: JSONParser.maximumDepth)
        #expect(Self.parse(deepest) != nil)
        let deeper = "[" + deepest + "]"
        #expect(Self.parse(deeper) == nil)
        // 64 KiB of brackets cannot exhaust the stack.
        #expect(Self.parse(String(repeating: "[", count: 65_536)) == nil)
        #expect(Self.parse(String(repeating: #"{"a":"#, count: 10_000)) == nil)
    }

    @Test func valuesAreReadExactly() throws {
        let value = try #require(Self.parse(#" { "s" : "x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00" , "i":-42, "z":0, "big":12345678901234567890,"#
            + #" "f":1.5, "e":1E3, "t":true, "n":null, "a":[1,"b",[]], "o":{"k":false} } "#))
        guard case .object(let object) = value else { Issue.record("not an object"); return }
        #expect(object.keys == ["s", "i", "z", "big", "f", "e", "t", "n", "a", "o"])
        #expect(object["s"] == .string("x\"\\/\u{8}\u{C}\n\r\té😀"))
        #expect(object["i"] == .integer(-42))
        #expect(object["z"] == .integer(0))
        #expect(object["big"] == .number)
        #expect(object["f"] == .number)
        #expect(object["e"] == .number)
        #expect(object["t"] == .bool(true))
        #expect(object["n"] == .null)
        #expect(object["a"] == .array([.integer(1), .string("b"), .array([])]))
        guard case .object(let inner)? = object["o"] else { Issue.record("not an object"); return }
        #expect(inner["k"] == .bool(false))
        #expect(Self.parse("9223372036854775807") == .integer(.max))
        #expect(Self.parse("-9223372036854775807") == .integer(-.max))
        #expect(Self.parse("-9223372036854775808") == .number)
        #expect(Self.parse(#""\u0000""#) == .string("\u{0}"))
    }

    /// Keys are compared by code points (RFC 8259), not by canonical equivalence:
    /// "K" and KELVIN SIGN are two keys, "é" and "e" + COMBINING ACUTE too.
    @Test func keysAreComparedByCodePoints() throws {
        let kelvin = try #require(Self.parse(#"{"K":1,"\u212A":2}"#))
        guard case .object(let object) = kelvin else { Issue.record("not an object"); return }
        #expect(object["K"] == .integer(1))
        #expect(object["\u{212A}"] == .integer(2))
        #expect(Self.parse(#"{"\u00e9":1,"e\u0301":2}"#) != nil)
        // Beyond 16 keys, through the set, alike.
        let many = (0..<20).map { #""k\#($0)":0"# }.joined(separator: ",")
        #expect(Self.parse("{" + many + #","K":1,"\u212A":2}"#) != nil)
        #expect(Self.parse("{" + many + #","k\u0031":2}"#) == nil)
    }

    /// Large objects check repeated keys through a set (in place, so 64 KiB of short keys
    /// stays linear); correct at either size.
    @Test func manyKeysAreCheckedForRepeats() {
        let keys = (0..<5_000).map { #""k\#($0)":0"# }
        #expect(Self.parse("{" + keys.joined(separator: ",") + "}") != nil)
        #expect(Self.parse("{" + keys.joined(separator: ",") + #","k4999":1}"#) == nil)
        #expect(Self.parse("{" + keys.joined(separator: ",") + #","k3":1}"#) == nil)
    }

    // MARK: Agreement with Foundation on valid JSON

    indirect enum Tree: CustomStringConvertible {
        case string(String), integer(Int), bool(Bool), null, array([Tree]), object([(String, Tree)])

        var foundation: Any {
            switch self {
            case .string(let value): value
            case .integer(let value): value
            case .bool(let value): value
            case .null: NSNull()
            case .array(let elements): elements.map(\.foundation)
            case .object(let members): Dictionary(members.map { ($0.0, $0.1.foundation) }, uniquingKeysWith: { first, _ in first })
            }
        }

        var expected: JSONValue {
            switch self {
            case .string(let value): .string(value)
            case .integer(let value): .integer(value)
            case .bool(let value): .bool(value)
            case .null: .null
            case .array(let elements): .array(elements.map(\.expected))
            case .object(let members): .object(JSONObject(Self.unique(members).map { ($0.0, $0.1.expected) }))
            }
        }

        static func unique(_ members: [(String, Tree)]) -> [(String, Tree)] {
            var seen = Set<String>()
            return members.filter { seen.insert($0.0).inserted }
        }

        var description: String { "\(foundation)" }
    }

    static func tree(_ choices: [Int], _ strings: [String]) -> Tree {
        var pick = choices.makeIterator()
        func next(_ count: Int) -> Int { (pick.next() ?? 0) % count }
        func value(_ depth: Int) -> Tree {
            switch next(depth > 3 ? 4 : 6) {
            case 0: return .string(strings[next(strings.count)])
            case 1: return .integer([0, -1, 1, Int.max, Int.min + 1, 1_800_000_000, next(1_000_000) - 500_000][next(7)])
            case 2: return [.bool(true), .bool(false), .null][next(3)]
            case 3: return .string("")
            case 4: return .array((0..<next(4)).map { _ in value(depth + 1) })
            default: return .object(Tree.unique((0..<next(5)).map { _ in (strings[next(strings.count)], value(depth + 1)) }))
            }
        }
        return value(0)
    }

    static let choices = Gen<Int>.int(in: 0...1_000_000).array(of: 64)
    /// Any scalar: the whole code space but the surrogates.
    static let scalars = Gen<Int>.int(in: 0...(0x10FFFF - 0x800)).map { Unicode.Scalar(UInt32($0 < 0xD800 ? $0 : $0 + 0x800))! }
    static let strings = scalars.array(of: 0...12).array(of: 6)

    /// Foundation writes random JSON values (objects, arrays, strings of any scalars,
    /// integers at the 64-bit edges); the parser reads back exactly those values.
    @Test func readsWhatFoundationWrites() async {
        await propertyCheck(count: 300, input: Self.choices, Self.strings) { choices, scalars in
            let strings = scalars.map { String(String.UnicodeScalarView($0)) }
            let tree = Self.tree(choices, strings)
            let root: Tree = if case .object = tree { tree } else { .array([tree]) }
            let data = try! JSONSerialization.data(withJSONObject: root.foundation, options: [.fragmentsAllowed])
            let parsed = JSONParser.parse(Array(data))
            #expect(parsed.map(Self.normalised) == Self.normalised(root.expected), "\(String(decoding: data, as: UTF8.self))")
        }
    }

    /// Foundation's object key order is its own: compare objects as sorted members.
    static func normalised(_ value: JSONValue) -> JSONValue {
        switch value {
        case .array(let elements): .array(elements.map(normalised))
        case .object(let object): .object(JSONObject(object.members.map { ($0.key, normalised($0.value)) }.sorted { $0.0 < $1.0 }))
        default: value
        }
    }
}
