/// Parses the duration syntax of the configuration (`900`, `900s`, `15m`, `12h`, `7d`)
/// into whole seconds.
public enum TimeSpan {
    /// Largest accepted value: ten years, far beyond any sane TTL, and small enough that
    /// adding it to a Unix time never overflows.
    public static let maximumSeconds = 10 * 365 * 86_400

    /// Returns the number of seconds, or `nil` when the text is not a duration.
    public static func seconds(from text: String) -> Int? {
        var digits = Substring(text)
        var unit = 1
        switch text.last {
        case "s": unit = 1; digits = digits.dropLast()
        case "m": unit = 60; digits = digits.dropLast()
        case "h": unit = 3_600; digits = digits.dropLast()
        case "d": unit = 86_400; digits = digits.dropLast()
        default: break
        }
        guard !digits.isEmpty, digits.count <= 10, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
              let value = Int(digits)
        else { return nil }
        let (seconds, overflow) = value.multipliedReportingOverflow(by: unit)
        guard !overflow, seconds <= maximumSeconds else { return nil }
        return seconds
    }
}
