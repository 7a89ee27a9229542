import Foundation

/// Finds objects that name a key twice in JSON text.
///
/// RFC 8259 leaves duplicate keys to the parser, and parsers disagree: Foundation's
/// `JSONDecoder` keeps the first `role`, `JSONSerialization` (and most other libraries)
/// the last. A token or body with two `role`s could mean one thing to Gatehouse and
/// another to whatever reads it next, so Gatehouse refuses such input outright.
enum JSONDuplicateKeys {
    /// Whether any object in `bytes` names a key twice. `bytes` must already be known to
    /// be valid JSON (the scanner does not validate it). Keys are compared after escapes
    /// are resolved, so `"role"` and `"\u0072ole"` are the same key.
    static func exist(in bytes: some Collection<UInt8>) -> Bool {
        var keySets: [Set<String>] = []     // one per open object, innermost last
        var containers: [Bool] = []         // open containers, `true` for an object
        var expectingKey = false
        var iterator = bytes.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "{"):
                containers.append(true)
                keySets.append([])
                expectingKey = true
            case UInt8(ascii: "["):
                containers.append(false)
                expectingKey = false
            case UInt8(ascii: "}"):
                _ = containers.popLast()
                _ = keySets.popLast()
                expectingKey = false
            case UInt8(ascii: "]"):
                _ = containers.popLast()
                expectingKey = false
            case UInt8(ascii: ","):
                expectingKey = containers.last == true
            case UInt8(ascii: ":"):
                expectingKey = false
            case UInt8(ascii: "\""):
                var raw: [UInt8] = [byte]
                var escaped = false
                while let next = iterator.next() {
                    raw.append(next)
                    if escaped {
                        escaped = false
                    } else if next == UInt8(ascii: "\\") {
                        escaped = true
                    } else if next == UInt8(ascii: "\"") {
                        break
                    }
                }
                guard expectingKey, !keySets.isEmpty else { continue }
                expectingKey = false
                let key = raw.contains(UInt8(ascii: "\\"))
                    ? (try? JSONDecoder().decode(String.self, from: Data(raw))) ?? String(decoding: raw, as: UTF8.self)
                    : String(decoding: raw.dropFirst().dropLast(), as: UTF8.self)
                if !keySets[keySets.count - 1].insert(key).inserted { return true }
            default:
                continue
            }
        }
        return false
    }
}
