/// A validated registration: what `POST /auth/register` and `gatehouse create-admin`
/// accept, with the rules of SPEC.md §3.2.
public struct Registration: Sendable, Equatable {
    /// Trimmed name, 2–100 characters.
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

    /// Trims the name and checks its length (in characters) and that it has no control characters.
    public static func checkName(_ raw: String) -> Result<String, FieldError> {
        let name = raw.trimmingWhitespaceAndNewlines()
        guard (2...100).contains(name.count) else {
            return .failure(FieldError(field: "name", message: "must be between 2 and 100 characters"))
        }
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            return .failure(FieldError(field: "name", message: "must not contain control characters"))
        }
        // Zero-width and other invisible format characters are not white space, but a
        // name made only of them is still blank.
        guard name.unicodeScalars.contains(where: { !$0.properties.isWhitespace && $0.properties.generalCategory != .format }) else {
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
