/// A field that failed validation, reported to the client by name.
public struct FieldError: Error, Sendable, Equatable, Codable {
    /// The request field, e.g. `email`.
    public let field: String
    /// What is wrong with it, e.g. `must be a valid email address`.
    public let message: String

    /// Creates a field error.
    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }
}
