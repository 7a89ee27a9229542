import Foundation
import Testing
@testable import Gatehouse

/// The in-memory revocation list (SPEC.md §3.6): decisions by claims, expiry, the cap.
@Suite struct RevocationListTests {
    static let now = 1_800_000_000
    let user = UUID()
    let other = UUID()
    let session = UUID()

    func claims(_ user: UUID, role: Role = .user, version: Int = 0, session: UUID = UUID(), iat: Int = Self.now - 60) -> AccessClaims {
        AccessClaims(
            sub: user.uuidString.lowercased(), role: role, version: version, sid: session.uuidString.lowercased(), iat: iat,
            exp: iat + 900, iss: "gatehouse", aud: nil
        )
    }

    @Test func eachKindRefusesExactlyTheTokensItAffects() {
        let list = RevocationList(window: 930)
        #expect(!list.refuses(claims(user), now: Self.now))
        var sequence: Int64 = 0
        func apply(_ user: UUID, _ kind: RevocationChange.Kind) {
            sequence += 1
            list.apply([RevocationChange(sequence: sequence, userID: user, kind: kind, at: Self.now)], now: Self.now)
        }

        apply(user, .session(session))
        #expect(list.refuses(claims(user, session: session), now: Self.now))
        #expect(!list.refuses(claims(user), now: Self.now), "another session of the user")
        #expect(!list.refuses(claims(other, session: session), now: Self.now), "another user")

        apply(user, .version(3))
        #expect(list.refuses(claims(user, version: 2), now: Self.now))
        #expect(!list.refuses(claims(user, version: 3), now: Self.now), "issued after the change, even in the same second")
        #expect(!list.refuses(claims(user, version: 3, iat: Self.now), now: Self.now))

        apply(user, .role(.admin))
        #expect(list.refuses(claims(user, role: .user, version: 3), now: Self.now))
        #expect(!list.refuses(claims(user, role: .admin, version: 3, iat: Self.now), now: Self.now))
        apply(user, .role(.user))
        #expect(list.refuses(claims(user, role: .admin, version: 3), now: Self.now))
        #expect(!list.refuses(claims(user, role: .user, version: 3), now: Self.now), "the role is the current one again")

        apply(other, .deleted)
        #expect(list.refuses(claims(other, version: 99), now: Self.now))
        #expect(list.refuses(claims(other, role: .admin), now: Self.now))
    }

    /// Changes of one user applied out of order (a gap filled late): versions only rise and
    /// the role of the highest sequence wins.
    @Test func lateChangesNeverUndoNewerOnes() {
        let list = RevocationList(window: 930)
        list.apply([
            RevocationChange(sequence: 5, userID: user, kind: .version(4), at: Self.now),
            RevocationChange(sequence: 6, userID: user, kind: .role(.admin), at: Self.now),
        ], now: Self.now)
        list.apply([
            RevocationChange(sequence: 3, userID: user, kind: .version(2), at: Self.now),
            RevocationChange(sequence: 4, userID: user, kind: .role(.user), at: Self.now),
        ], now: Self.now)
        #expect(list.refuses(claims(user, role: .admin, version: 3), now: Self.now))
        #expect(!list.refuses(claims(user, role: .admin, version: 4), now: Self.now))
        #expect(list.refuses(claims(user, role: .user, version: 4), now: Self.now))
    }

    /// Memory follows one window of changes: a window's worth of revocations is held while
    /// it matters and gone once no token it affects can be valid.
    @Test func entriesExpireAfterTheWindow() {
        let list = RevocationList(window: 930)
        let changes = (0..<100_000).map { index in
            RevocationChange(sequence: Int64(index + 1), userID: UUID(), kind: .session(UUID()), at: Self.now + index / 1_000)
        }
        list.apply(changes, now: Self.now + 99)
        #expect(list.users == 100_000)
        #expect(list.count == 100_000)
        let last = changes[99_999]
        guard case .session(let revoked) = last.kind else { return }
        #expect(list.refuses(claims(last.userID, session: revoked), now: Self.now + 99))

        // Half way: the first half's entries are gone, the rest stay.
        list.removeExpired(now: Self.now + 930 + 50)
        #expect(list.users == 49_000)
        #expect(list.refuses(claims(last.userID, session: revoked), now: Self.now + 980))
        list.removeExpired(now: Self.now + 930 + 99)
        #expect(list.users == 0)
        #expect(list.count == 0)
        // A change older than the window is not even kept.
        list.apply([RevocationChange(sequence: 1, userID: user, kind: .deleted, at: Self.now)], now: Self.now + 930)
        #expect(list.users == 0)
    }

    /// An entry touched again lives a window from its latest change.
    @Test func aNewChangeExtendsItsUsersEntry() {
        let list = RevocationList(window: 100)
        list.apply([RevocationChange(sequence: 1, userID: user, kind: .version(1), at: Self.now)], now: Self.now)
        list.apply([RevocationChange(sequence: 2, userID: user, kind: .session(session), at: Self.now + 50)], now: Self.now + 50)
        list.removeExpired(now: Self.now + 120)
        #expect(list.refuses(claims(user, version: 0), now: Self.now + 120))
        #expect(list.refuses(claims(user, version: 1, session: session), now: Self.now + 120))
        list.removeExpired(now: Self.now + 150)
        #expect(list.users == 0)
    }

    /// Past the cap the list refuses rather than forgets: the evicted users' earlier
    /// tokens are refused until they would have expired; their later ones, and other
    /// users', pass.
    @Test func pastTheCapEvictedUsersOlderTokensAreRefused() {
        let list = RevocationList(window: 930, capacity: 1_000)
        let users = (0..<1_500).map { _ in UUID() }
        let changes = users.enumerated().map { index, user in
            RevocationChange(sequence: Int64(index + 1), userID: user, kind: .version(1), at: Self.now)
        }
        let evicted = list.apply(changes, now: Self.now)
        #expect(evicted == 500)
        #expect(list.count == 1_000)
        #expect(list.evictions == 500)
        for user in users {
            #expect(list.refuses(claims(user, version: 0), now: Self.now + 1), "an old token of a held or evicted user")
            #expect(!list.refuses(claims(user, version: 1, iat: Self.now + 1), now: Self.now + 1))
        }
        // Users never revoked pass (bar the rare hash collision with an evicted one).
        let strangers = (0..<1_000).map { _ in UUID() }
        let refused = strangers.filter { list.refuses(claims($0, version: 0), now: Self.now + 1) }.count
        #expect(refused < 10)
        // Once the evicted entries would have expired, the horizon goes too.
        list.removeExpired(now: Self.now + 931)
        #expect(list.count == 0)
        #expect(!list.refuses(claims(users[0], version: 0), now: Self.now + 931))
    }

    @Test func theVerifierRefusesARevokedTokenAsRevoked() async throws {
        let configuration = try GatehouseConfiguration(
            accessSecret: String(repeating: "a", count: 32), refreshSecret: String(repeating: "b", count: 32)
        )
        let keys = SigningKeys(configuration: configuration)
        let list = RevocationList(configuration: configuration)
        let verifier = TokenVerifier(keys: keys, configuration: configuration, revocations: list)
        let issuer = TokenIssuer(keys: keys, configuration: configuration)
        let second = Int(Date().timeIntervalSince1970)
        let token = issuer.accessToken(userID: user, role: .user, version: 0, sessionID: session, issuedAt: second)
        _ = try await verifier.verifyAccess(token)
        list.apply([RevocationChange(sequence: 1, userID: user, kind: .session(session), at: second)], now: second)
        await #expect(throws: TokenError.revoked) { try await verifier.verifyAccess(token) }
        let fresh = issuer.accessToken(userID: user, role: .user, version: 0, sessionID: UUID(), issuedAt: second)
        _ = try await verifier.verifyAccess(fresh)
    }
}
