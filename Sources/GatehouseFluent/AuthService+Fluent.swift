import FluentKit
import Foundation
import Gatehouse

extension AuthService {
    /// An `AuthService` storing users and sessions in the default database of
    /// `databases`, hashing with bcrypt at the configured cost unless `hasher` is given and
    /// limiting in memory unless `limiters` are given.
    public static func fluent(
        configuration: GatehouseConfiguration,
        databases: Databases,
        hasher: (any PasswordHasher)? = nil,
        limiters: RateLimiters? = nil,
        now: @escaping @Sendable () -> Date = { Date() }
    ) async -> AuthService {
        await fluent(
            configuration: configuration, provider: FluentDatabaseProvider(databases: databases), hasher: hasher,
            limiters: limiters, now: now
        )
    }

    /// An `AuthService` storing users and sessions through `provider` (share it with the
    /// `SessionPruner`, so that both use one SQLite connection). With `revocations` (a
    /// `DatabaseRevocationFeed` on the same provider, loaded and run as a service), access
    /// tokens are refused as soon as a change revokes them (SPEC.md §3.6).
    public static func fluent(
        configuration: GatehouseConfiguration,
        provider: FluentDatabaseProvider,
        hasher: (any PasswordHasher)? = nil,
        limiters: RateLimiters? = nil,
        revocations: (any RevocationFeed)? = nil,
        now: @escaping @Sendable () -> Date = { Date() }
    ) async -> AuthService {
        AuthService(
            configuration: configuration,
            keys: SigningKeys(configuration: configuration),
            users: FluentUserRepository(provider: provider),
            sessions: FluentSessionRepository(provider: provider),
            audit: FluentAuditRepository(provider: provider),
            hasher: hasher ?? BcryptPasswordHasher(cost: configuration.bcryptCost),
            limiters: limiters,
            revocations: revocations,
            now: now
        )
    }
}
