/// A user's role. Only these two exist; nothing a client sends can set one.
public enum Role: String, Sendable, Codable, CaseIterable {
    case user
    case admin
}
