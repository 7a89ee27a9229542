/// Shared by Gatehouse and the downstream verifier, so both read `Authorization` alike
/// (hummingbird-auth's `bearer` takes only the exact prefix `Bearer ` and anything after it).
/// An `Authorization` field's value read as a Bearer credential (RFC 6750 §2.1).
package enum BearerCredential {
    case token(UnsafeBufferPointer<UInt8>)
    /// The scheme is Bearer, but the rest is not one token.
    case malformed
    /// Another scheme (Basic, …): for another authenticator.
    case otherScheme

    /// Parses `Bearer <token>`, scheme case-insensitive. Spaces around and between the
    /// two words are tolerated; anything after the token is not.
    package static func parse(_ header: UnsafeBufferPointer<UInt8>) -> BearerCredential {
        let space = UInt8(ascii: " ")
        var index = 0
        while index < header.count, header[index] == space { index += 1 }
        // "bearer" in any case (`| 0x20` lower-cases letters and changes no other byte
        // into one), then a space or the end.
        for letter in "bearer".utf8 {
            guard index < header.count, header[index] | 0x20 == letter else { return .otherScheme }
            index += 1
        }
        guard index == header.count || header[index] == space else { return .otherScheme }
        while index < header.count, header[index] == space { index += 1 }
        let start = index
        while index < header.count, header[index] != space { index += 1 }
        let end = index
        while index < header.count, header[index] == space { index += 1 }
        guard end > start, index == header.count else { return .malformed }
        return .token(UnsafeBufferPointer(rebasing: header[start..<end]))
    }
}
