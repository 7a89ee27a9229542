import Foundation
import Testing

@testable import Gatehouse

@Suite struct ClaimSetTests {
    @Test func flatObjectsParse() throws {
        let claims = try #require(ClaimSet(json: Array(#" { "a" : "x\"\\\/\u00e9\ud83d\ude00" , "n":-42,"z":0,"aud":["api"],"e":[] } "#.utf8)))
        #expect(claims.string("a") == "x\"\\/é😀")
        #expect(claims.integer("n") == -42)
        #expect(claims.integer("z") == 0)
        #expect(claims.audience() == .some("api"))
        #expect(claims["e"] == .array([]))
        #expect(claims.optionalInteger("missing") == .some(nil))
    }

    @Test(arguments: [
        "", "[]", "{", "{}x", #"{"a":1,"a":2}"#, #"{"a":1.5}"#, #"{"a":1e3}"#, #"{"a":01}"#, #"{"a":-}"#,
        #"{"a":99999999999999999999}"#, #"{"a":true}"#, #"{"a":null}"#, #"{"a":{"b":1}}"#, #"{"a":[1]}"#,
        #"{"a":"\ud800"}"#, #"{"a":"\udc00"}"#, #"{"a":"\x"}"#, "{\"a\":\"tab\there\"}", #"{a:1}"#, #"{"a":1,}"#,
        #"{"a":"unterminated}"#, #"{"a":"\u12"}"#,
    ])
    func anythingElseIsRefused(json: String) {
        #expect(ClaimSet(json: Array(json.utf8)) == nil)
    }

    @Test func invalidUTF8IsRefused() {
        #expect(ClaimSet(json: Array(#"{"a":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)) == nil)
        #expect(ClaimSet(json: Array(#"{"a":"\n"#.utf8) + [0xFF] + Array(#""}"#.utf8)) == nil)
        #expect(ClaimSet(json: Array(#"{""#.utf8) + [0xC3] + Array(#"":1}"#.utf8)) == nil)
    }

    /// Raw UTF-8 (no escapes) is accepted as it stands, with and without escapes beside it.
    @Test func rawUTF8Parses() throws {
        let claims = try #require(ClaimSet(json: Array(#"{"a":"café","b":"café\n","ñ":1}"#.utf8)))
        #expect(claims.string("a") == "café")
        #expect(claims.string("b") == "café\n")
        #expect(claims.integer("ñ") == 1)
    }

    @Test func uuidsAreCheckedAndLowerCased() throws {
        let claims = try #require(ClaimSet(json: Array(#"{"u":"5B1E6D0C-3F43-4C0E-9C8C-0D8D3C1E9A11","v":"5b1e6d0c3f434c0e9c8c0d8d3c1e9a11xxxx","w":"5b1e6d0c-3f43-4c0e-9c8c-0d8d3c1e9a1g"}"#.utf8)))
        #expect(claims.uuid("u") == "5b1e6d0c-3f43-4c0e-9c8c-0d8d3c1e9a11")
        #expect(claims.uuid("v") == nil)
        #expect(claims.uuid("w") == nil)
    }

    @Test func theUsersMeBodyMatchesFoundationsEncoding() async throws {
        let fixture = await Fixture(audience: "api \"quoted\" \\ é")
        let claims = try await fixture.verifier.verifyAccess(try await fixture.access())
        let ours = try JSONSerialization.jsonObject(with: Data(claims.json)) as? NSDictionary
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let foundation = try JSONSerialization.jsonObject(with: encoder.encode(claims)) as? NSDictionary
        #expect(ours != nil)
        #expect(ours == foundation)
        #expect(String(decoding: claims.json, as: UTF8.self).hasPrefix(#"{"aud":"api \"quoted\" \\ é","exp":"#))
    }
}
