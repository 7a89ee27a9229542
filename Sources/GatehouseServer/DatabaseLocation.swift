/// Where the data lives, from `DATABASE_URL`.
enum DatabaseLocation: Sendable, Equatable {
    /// `sqlite://PATH`
    case sqliteFile(String)
    /// `sqlite::memory:`
    case sqliteMemory

    /// Parses a URL. The error text never repeats the URL, which may hold a password.
    static func parse(_ url: String) throws(ConfigurationError) -> DatabaseLocation {
        if url == "sqlite::memory:" || url == "sqlite://:memory:" {
            return .sqliteMemory
        }
        if url.hasPrefix("sqlite://") {
            let path = String(url.dropFirst("sqlite://".count))
            guard !path.isEmpty, !path.contains("\0") else {
                throw ConfigurationError("DATABASE_URL", "has no file path after sqlite://")
            }
            return .sqliteFile(path)
        }
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            throw ConfigurationError("DATABASE_URL", "names PostgreSQL; PostgreSQL support is not available yet")
        }
        throw ConfigurationError("DATABASE_URL", "must be sqlite://PATH, sqlite::memory: or postgres://user:pass@host:port/db")
    }
}
