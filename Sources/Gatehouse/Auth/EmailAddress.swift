/// Email syntax and normalisation (trimmed, lower-cased, ASCII only).
///
/// Deliberately stricter than RFC 5322: no quoted local parts, comments, IP-literal
/// domains or Unicode, which real sign-up forms never need and which make addresses
/// that look alike but differ.
public enum EmailAddress {
    /// Longest accepted address (SPEC.md §2).
    public static let maximumLength = 254

    /// Returns the normalised address, or `nil` when it is not a valid address.
    public static func normalize(_ raw: String) -> String? {
        let email = raw.trimmingASCIIWhitespace().lowercased()
        guard email.utf8.count <= maximumLength, email.allSatisfy(\.isASCII) else { return nil }
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, isValidLocalPart(parts[0]), isValidDomain(parts[1]) else { return nil }
        return email
    }

    private static let localCharacters = Set("abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+/=?^_`{|}~-.")

    private static func isValidLocalPart(_ local: Substring) -> Bool {
        guard (1...64).contains(local.count), local.first != ".", local.last != ".",
              !local.contains("..")
        else { return false }
        return local.allSatisfy { localCharacters.contains($0) }
    }

    private static func isValidDomain(_ domain: Substring) -> Bool {
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, domain.count <= 253 else { return false }
        for label in labels {
            guard (1...63).contains(label.count), label.first != "-", label.last != "-",
                  label.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" })
            else { return false }
        }
        // The top-level label is alphabetic (no `user@1.2.3.4`).
        return labels.last!.count >= 2 && labels.last!.allSatisfy(\.isLetter)
    }
}
