import Foundation
import Gatehouse

/// Where the data lives, from `DATABASE_URL`.
enum DatabaseLocation: Sendable, Equatable {
    /// `sqlite://PATH`
    case sqliteFile(String)
    /// `sqlite::memory:`
    case sqliteMemory
    /// `postgres://user:pass@host:port/db` (or `postgresql://`)
    case postgres(PostgresLocation)

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
            return .postgres(try PostgresLocation.parse(url))
        }
        throw ConfigurationError("DATABASE_URL", "must be sqlite://PATH, sqlite::memory: or postgres://user:pass@host:port/db")
    }

    /// The location for logs and `description`: never the password.
    var redacted: String {
        switch self {
        case .sqliteFile(let path): "sqlite://\(path)"
        case .sqliteMemory: "sqlite::memory:"
        case .postgres(let location): location.redacted
        }
    }
}

/// A PostgreSQL server and database.
struct PostgresLocation: Sendable, Equatable {
    /// TLS as libpq's `sslmode` spells it.
    enum SSLMode: String, Sendable, CaseIterable {
        /// Plain TCP.
        case disable
        /// TLS when the server offers it, without verifying its certificate (libpq's default).
        case prefer
        /// TLS always, without verifying the certificate (as libpq's `require`).
        case require
        /// TLS always, with the certificate verified against the system's roots and the host name.
        case verifyFull = "verify-full"
    }

    var host: String
    var port: Int
    var username: String
    var password: String?
    var database: String
    var sslMode: SSLMode
    /// Schema to create and keep Gatehouse's tables in (`?schema=`); `nil`: the server's
    /// default search path (normally `public`).
    var schema: String?

    /// Parses `postgres://user[:password]@host[:port]/database[?sslmode=…&schema=…]`.
    /// User and password may be percent-encoded. No error repeats any part of the URL.
    static func parse(_ url: String) throws(ConfigurationError) -> PostgresLocation {
        func problem(_ text: String) -> ConfigurationError { ConfigurationError("DATABASE_URL", text) }
        guard let components = URLComponents(string: url) else {
            throw problem("is not a valid URL (percent-encode special characters in the user and password)")
        }
        guard let host = components.host, !host.isEmpty,
              let username = components.user, !username.isEmpty
        else {
            throw problem("must name a user and a host: postgres://user:pass@host:port/db")
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw problem("must name a database after the host: postgres://user:pass@host:port/db")
        }
        let port = components.port ?? 5432
        guard (1...65_535).contains(port) else { throw problem("has a port outside 1–65535") }

        var sslMode = SSLMode.prefer
        var schema: String?
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let value = item.value, let mode = SSLMode(rawValue: value) else {
                    throw problem("sslmode must be disable, prefer, require or verify-full")
                }
                sslMode = mode
            case "schema":
                guard let value = item.value, isIdentifier(value) else {
                    throw problem("schema must be a lower-case identifier (letters, digits and _, at most 63)")
                }
                schema = value
            default:
                throw problem("has an unknown parameter; only sslmode and schema are accepted")
            }
        }
        return PostgresLocation(
            host: host, port: port, username: username, password: components.password, database: database,
            sslMode: sslMode, schema: schema
        )
    }

    /// `[a-z_][a-z0-9_]{0,62}`: safe to quote into `CREATE SCHEMA`.
    static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.first, first == "_" || ("a"..."z").contains(first), text.count <= 63 else { return false }
        return text.allSatisfy { $0 == "_" || ("a"..."z").contains($0) || ("0"..."9").contains($0) }
    }

    var redacted: String {
        "postgres://\(username):<redacted>@\(host):\(port)/\(database)?sslmode=\(sslMode.rawValue)"
            + (schema.map { "&schema=\($0)" } ?? "")
    }
}
