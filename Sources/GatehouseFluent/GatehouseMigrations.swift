import FluentKit
import SQLKit

/// Gatehouse's schema, in order (FluentKit's migrator keeps track of what ran; the
/// request paths use statements of their own, see `FluentUserRepository`). Run by `gatehouse serve` and `gatehouse migrate`; an
/// embedding application adds them to its own `Migrations`.
public enum GatehouseMigrations {
    /// Every migration, oldest first.
    public static var all: [any Migration] {
        [CreateUsers(), CreateSessions(), IndexSessionsForPruning(), AddAccountsAndAudit(), CreateRateLimits(), CreateRevocations()]
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

/// Accounts and administration (SPEC.md §3.4–§3.5): each user's last sign-in, the audit
/// log, and the indexes the admin pages read through. Upgrades an existing database in
/// place: `last_login_at` starts as the newest session's creation.
struct AddAccountsAndAudit: AsyncMigration {
    var name: String { "gatehouse.add-accounts-and-audit" }

    func prepare(on database: any Database) async throws {
        try await database.schema("gatehouse_users")
            .field("last_login_at", .datetime)
            .update()
        // No foreign key on user_id: the events of a deleted account are what explains it.
        try await database.schema("gatehouse_audit_events")
            .id()
            .field("at", .datetime, .required)
            .field("event", .string, .required)
            .field("actor_id", .uuid)
            .field("user_id", .uuid)
            .field("session_id", .uuid)
            .field("ip", .string)
            .field("user_agent", .string)
            .field("email", .string)
            .create()
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.raw("""
            UPDATE gatehouse_users SET last_login_at =
                (SELECT MAX(s.created_at) FROM gatehouse_sessions s WHERE s.user_id = gatehouse_users.id)
            """).run()
        // Keyset pages: users oldest first by (created_at, id), events newest first by (at, id).
        try await sql.raw("CREATE INDEX IF NOT EXISTS gatehouse_users_created_at_id_idx ON gatehouse_users (created_at, id)").run()
        try await sql.raw("CREATE INDEX IF NOT EXISTS gatehouse_audit_events_at_id_idx ON gatehouse_audit_events (at, id)").run()
        try await sql.raw("CREATE INDEX IF NOT EXISTS gatehouse_audit_events_user_id_at_idx ON gatehouse_audit_events (user_id, at, id)").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("gatehouse_audit_events").delete()
        if let sql = database as? any SQLDatabase {
            try await sql.drop(index: "gatehouse_users_created_at_id_idx").run()
        }
        try await database.schema("gatehouse_users").deleteField("last_login_at").update()
    }
}

/// The windows of `DatabaseRateLimiter`: one row per limiter and key.
struct CreateRateLimits: AsyncMigration {
    var name: String { "gatehouse.create-rate-limits" }

    func prepare(on database: any Database) async throws {
        try await database.schema("gatehouse_rate_limits")
            .field("key", .string, .required)
            .field("window_end", .int64, .required)
            .field("count", .int64, .required)
            .unique(on: "key", name: "gatehouse_rate_limits_key_key")
            .create()
        if let sql = database as? any SQLDatabase {
            try await sql.raw("CREATE INDEX IF NOT EXISTS gatehouse_rate_limits_window_end_idx ON gatehouse_rate_limits (window_end)").run()
        }
    }

    func revert(on database: any Database) async throws {
        try await database.schema("gatehouse_rate_limits").delete()
    }
}

/// The change table of instant revocation (SPEC.md §3.6): one row per change that ends
/// tokens' right to act, written in the change's own transaction, read by every instance
/// (`DatabaseRevocationFeed`) in `seq` order. `seq` never repeats (SQLite's
/// `AUTOINCREMENT`, PostgreSQL's identity), so a cursor stays valid while old rows are
/// pruned. On PostgreSQL each insert also notifies `gatehouse_revocations` (a trigger, so
/// every writer does, `gatehouse users` included), which wakes the instances' listeners.
struct CreateRevocations: AsyncMigration {
    var name: String { "gatehouse.create-revocations" }

    func prepare(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        if sql.dialect.name == "postgresql" {
            try await sql.raw("""
                CREATE TABLE gatehouse_revocations (
                    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    user_id UUID NOT NULL, kind TEXT NOT NULL, session_id UUID, token_version BIGINT, role TEXT,
                    at BIGINT NOT NULL
                )
                """).run()
            try await sql.raw("""
                CREATE FUNCTION gatehouse_revocations_notify() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN PERFORM pg_notify('gatehouse_revocations', TG_TABLE_SCHEMA); RETURN NULL; END $$
                """).run()
            try await sql.raw("""
                CREATE TRIGGER gatehouse_revocations_notify AFTER INSERT ON gatehouse_revocations
                FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_revocations_notify()
                """).run()
        } else {
            try await sql.raw("""
                CREATE TABLE gatehouse_revocations (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    user_id UUID NOT NULL, kind TEXT NOT NULL, session_id UUID, token_version INTEGER, role TEXT,
                    at INTEGER NOT NULL
                )
                """).run()
        }
        try await sql.raw("CREATE INDEX gatehouse_revocations_at_idx ON gatehouse_revocations (at)").run()
    }

    func revert(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.raw("DROP TABLE IF EXISTS gatehouse_revocations").run()
        if sql.dialect.name == "postgresql" {
            try await sql.raw("DROP FUNCTION IF EXISTS gatehouse_revocations_notify()").run()
        }
    }
}
