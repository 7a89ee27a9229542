/// A validated registration: what `POST /auth/register` and `gatehouse create-admin`
/// accept, with the rules of SPEC.md §3.2.
public struct Registration: Sendable, Equatable {
    /// Trimmed name, 2–100 Unicode scalars and at most 400 UTF-8 bytes.
    public let name: String
    /// Normalised email.
    public let email: String
    /// Password, 8–72 bytes of UTF-8, no NUL.
    public let password: String

    /// Validates raw strings, reporting every failing field at once.
    public static func validate(name: String, email: String, password: String) throws(AppError) -> Registration {
        let name = checkName(name)
        let email = checkEmail(email)
        let passwordError = checkPassword(password)
        switch (name, email, passwordError) {
        case (.success(let name), .success(let email), nil):
            return Registration(name: name, email: email, password: password)
        default:
            let errors = [name.failure, email.failure, passwordError].compactMap { $0 }
            throw AppError.validation(errors)
        }
    }

    /// Longest name in UTF-8 bytes: what is stored and echoed in every response is
    /// bounded by bytes, not by user-perceived characters (`"a"` followed by 60,000
    /// combining marks is one `Character`).
    public static let maximumNameBytes = 400

    /// Trims the name and checks it (SPEC.md §3.2): 2–100 Unicode scalars, at most 400
    /// UTF-8 bytes, no control characters and no format characters (category Cf, which
    /// includes the bidirectional overrides and isolates U+202A–U+202E and U+2066–U+2069
    /// and the zero-width characters): they make a name display as something else in an
    /// admin screen or a log viewer.
    public static func checkName(_ raw: String) -> Result<String, FieldError> {
        let name = raw.trimmingWhitespaceAndNewlines()
        guard (2...100).contains(name.unicodeScalars.count) else {
            return .failure(FieldError(field: "name", message: "must be between 2 and 100 characters"))
        }
        // Implied by the scalar count today (a scalar is at most 4 bytes), and kept so the
        // byte bound holds whatever the character rule becomes.
        guard name.utf8.count <= maximumNameBytes else {
            return .failure(FieldError(field: "name", message: "must be at most \(maximumNameBytes) bytes"))
        }
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            return .failure(FieldError(field: "name", message: "must not contain control characters"))
        }
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .format }) else {
            return .failure(FieldError(field: "name", message: "must not contain invisible or text-direction characters"))
        }
        guard name.unicodeScalars.contains(where: { !$0.properties.isWhitespace }) else {
            return .failure(FieldError(field: "name", message: "must not be blank"))
        }
        return .success(name)
    }

    /// Normalises and checks the email.
    public static func checkEmail(_ raw: String) -> Result<String, FieldError> {
        guard let email = EmailAddress.normalize(raw) else {
            return .failure(FieldError(field: "email", message: "must be a valid email address"))
        }
        return .success(email)
    }

    /// Checks the password: 8–72 bytes (bcrypt ignores the rest, so longer is refused
    /// rather than silently truncated) and no NUL (the C implementation stops there).
    public static func checkPassword(_ password: String) -> FieldError? {
        let bytes = password.utf8.count
        guard bytes >= 8, bytes <= BcryptPasswordHasher.maximumPasswordBytes else {
            return FieldError(field: "password", message: "must be between 8 and 72 bytes")
        }
        guard !password.utf8.contains(0) else {
            return FieldError(field: "password", message: "must not contain NUL characters")
        }
        return nil
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
