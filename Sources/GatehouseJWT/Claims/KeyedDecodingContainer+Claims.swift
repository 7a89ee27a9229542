import Foundation

extension KeyedDecodingContainer {
    /// Decodes a UUID string and returns it in canonical lower case, or throws.
    package func decodeUUIDString(forKey key: Key) throws -> String {
        let text = try decode(String.self, forKey: key)
        guard let uuid = UUID(uuidString: text) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "not a UUID")
        }
        return uuid.uuidString.lowercased()
    }

    /// Decodes `aud`, which RFC 7519 allows as a string or an array of strings. An array
    /// is accepted only with exactly one element: Gatehouse tokens have one audience.
    package func decodeAudience(forKey key: Key) throws -> String? {
        guard contains(key), try !decodeNil(forKey: key) else { return nil }
        if let single = try? decode(String.self, forKey: key) { return single }
        let many = try decode([String].self, forKey: key)
        guard many.count == 1 else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "one audience expected")
        }
        return many[0]
    }
}
