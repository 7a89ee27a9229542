import Foundation
import Gatehouse
/// A minimal `.env` reader: `KEY=VALUE` lines, `#` comments, optional `export `, and
/// single- or double-quoted values. Real environment variables win over it.
enum DotEnv {
    /// Parses the text; a line that is not `KEY=VALUE` is an error naming its number.
    static func parse(_ text: String) throws(ConfigurationError) -> [String: String] {
        var values: [String: String] = [:]
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = rawLine.trimmingSpaces()
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = line.dropFirst("export ".count).trimmingSpaces() }
            guard let equals = line.firstIndex(of: "=") else {
                throw ConfigurationError(".env", "line \(index + 1) is not KEY=VALUE")
            }
            let key = line[..<equals].trimmingSpaces()
            guard !key.isEmpty, key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
                throw ConfigurationError(".env", "line \(index + 1) has an invalid variable name")
            }
            values[String(key)] = try value(line[line.index(after: equals)...].trimmingSpaces(), line: index + 1)
        }
        return values
    }

    private static func value(_ raw: Substring, line: Int) throws(ConfigurationError) -> String {
        if let quote = raw.first, quote == "\"" || quote == "'" {
            let rest = raw.dropFirst()
            guard let end = rest.firstIndex(of: quote) else {
                throw ConfigurationError(".env", "line \(line) has an unterminated quote")
            }
            return String(rest[..<end])
        }
        // Unquoted: an inline comment starts at " #".
        if let comment = raw.range(of: " #") {
            return String(raw[..<comment.lowerBound].trimmingSpaces())
        }
        return String(raw)
    }
}

extension Substring {
    func trimmingSpaces() -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) }) else {
            return self[endIndex...]
        }
        return self[start...end]
    }
}
