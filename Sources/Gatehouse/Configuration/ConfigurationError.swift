/// One bad setting: printed as one line naming its variable and what is wrong, never
/// its value (secrets and database URLs may be among them).
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The environment variable the setting is read from (`JWT_ACCESS_SECRET`).
    public let variable: String
    /// What is wrong with it (`must be at least 32 characters`).
    public let problem: String

    /// Creates an error.
    public init(_ variable: String, _ problem: String) {
        self.variable = variable
        self.problem = problem
    }

    public var description: String { "\(variable) \(problem)" }
}

/// Every bad setting found at once.
public struct ConfigurationErrors: Error, Sendable, CustomStringConvertible {
    /// The problems, one per bad setting.
    public let errors: [ConfigurationError]

    /// Creates the error.
    public init(errors: [ConfigurationError]) {
        self.errors = errors
    }

    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
