extension String {
    /// Trims spaces, tabs, CR and LF at both ends (emails).
    func trimmingASCIIWhitespace() -> String {
        trimming { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
    }

    /// Trims every Unicode white space and newline at both ends (names: a name of only
    /// no-break spaces is empty).
    func trimmingWhitespaceAndNewlines() -> String {
        trimming { $0.isWhitespace || $0.isNewline }
    }

    private func trimming(_ isSpace: (Character) -> Bool) -> String {
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[start...end])
    }
}
