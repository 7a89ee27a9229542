/// One bad variable: printed as one line naming it and what is wrong, never its value.
struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    let variable: String
    let problem: String

    init(_ variable: String, _ problem: String) {
        self.variable = variable
        self.problem = problem
    }

    var description: String { "\(variable) \(problem)" }
}

/// Every bad variable found while loading.
struct ConfigurationErrors: Error, Sendable {
    let errors: [ConfigurationError]
}
