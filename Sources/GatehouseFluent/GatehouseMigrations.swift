import FluentKit
import SQLKit

/// Gatehouse's schema, in order (FluentKit's migrator keeps track of what ran; the
/// request paths use statements of their own, see `FluentUserRepository`). Run by `gatehouse serve` and `gatehouse migrate`; an
/// embedding application adds them to its own `Migrations`.
public enum GatehouseMigrations {
    /// Every migration, oldest first.
    public static var all: [any Migration] {
        [CreateUsers(), CreateSessions(), IndexSessionsForPruning()]
    }
}

/// Users, with the unique index on the (already lower-cased) email that decides
/// concurrent registrations.
struct CreateUsers: AsyncMigration {
    var name: String { "gatehouse.create-users" }

    func prepare(on database: any Database) async throws {
        try await database.schema("gatehouse_users")
            .id()
            .field("name", .string, .required)
            .field("email", .string, .required)
            .field("password_hash", .string, .required)
            .field("role", .string, .required)
            .field("token_version", .int64, .required)
            .field("created_at", .datetime, .required)
            .field("updated_at", .datetime, .required)
            .unique(on: "email", name: "gatehouse_users_email_key")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("gatehouse_users").delete()
    }
}

/// Sessions, deleted with their user, indexed by user for logout-all.
struct CreateSessions: AsyncMigration {
    var name: String { "gatehouse.create-sessions" }

    func prepare(on database: any Database) async throws {
        try await database.schema("gatehouse_sessions")
            .id()
            .field("user_id", .uuid, .required, .references("gatehouse_users", "id", onDelete: .cascade))
            .field("generation", .int64, .required)
            .field("rotated_at", .datetime, .required)
            .field("created_at", .datetime, .required)
            .field("last_used_at", .datetime, .required)
            .field("expires_at", .datetime, .required)
            .field("revoked_at", .datetime)
            .field("user_agent", .string)
            .field("ip", .string)
            .create()
        if let sql = database as? any SQLDatabase {
            try await sql.create(index: "gatehouse_sessions_user_id_idx")
                .on("gatehouse_sessions")
                .column("user_id")
                .run()
        }
    }

    func revert(on database: any Database) async throws {
        try await database.schema("gatehouse_sessions").delete()
    }
}

/// Indexes the pruner's two conditions, so each batch it deletes is found through an
/// index instead of a scan past every live session (at a million users a scan per batch
/// made the prune quadratic and held the database for seconds).
struct IndexSessionsForPruning: AsyncMigration {
    var name: String { "gatehouse.index-sessions-for-pruning" }

    func prepare(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        // IF NOT EXISTS: two instances migrating at once must not fail on each other's index.
        try await sql.raw("CREATE INDEX IF NOT EXISTS gatehouse_sessions_expires_at_idx ON gatehouse_sessions (expires_at)").run()
        try await sql.raw("CREATE INDEX IF NOT EXISTS gatehouse_sessions_revoked_at_idx ON gatehouse_sessions (revoked_at)").run()
    }

    func revert(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.drop(index: "gatehouse_sessions_revoked_at_idx").run()
        try await sql.drop(index: "gatehouse_sessions_expires_at_idx").run()
    }
}
