import Foundation
import HTTPTypes
import Synchronization
import Testing

@testable import Gatehouse

@Suite struct PasswordHashQueueTests {
    /// Holds slots until released, so the bounds are tested without timing.
    final class Gate: Sendable {
        struct State {
            var opened = false
            var waiters: [CheckedContinuation<Void, Never>] = []
        }
        private let state = Mutex(State())

        func wait() async {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state in
                    if state.opened { return true }
                    state.waiters.append(continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }

        var waiting: Int { state.withLock { $0.waiters.count } }

        func open() {
            let waiters = state.withLock { state in
                state.opened = true
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume() }
        }
    }

    func expectBusy(_ error: any Error, sourceLocation: SourceLocation = #_sourceLocation) {
        let appError = error as? AppError
        #expect(appError?.status == .serviceUnavailable, sourceLocation: sourceLocation)
        #expect(appError?.message == "Service busy", sourceLocation: sourceLocation)
        #expect(appError?.headers[.retryAfter].flatMap(Int.init).map { $0 >= 1 } == true, sourceLocation: sourceLocation)
    }

    func waitUntil(_ condition: () -> Bool) async throws {
        for _ in 0..<2_000 where !condition() { try await Task.sleep(for: .milliseconds(1)) }
        #expect(condition())
    }

    @Test func aClientGetsItsShareAndNoMore() async throws {
        let queue = PasswordHashQueue(depth: 8, perClient: 2)
        let gate = Gate()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<2 {
                group.addTask { try await queue.run(client: "203.0.113.1") { await gate.wait() } }
            }
            try await waitUntil { gate.waiting == 2 }
            // The third from the same client is refused at once; another client is served.
            do {
                try await queue.run(client: "203.0.113.1") {}
                Issue.record("a third slot was given to one client")
            } catch {
                expectBusy(error)
            }
            try await queue.run(client: "203.0.113.2") {}
            gate.open()
            try await group.waitForAll()
        }
        #expect(queue.held == 0)
        try await queue.run(client: "203.0.113.1") {}
    }

    @Test func theQueueIsBoundedWhateverTheClients() async throws {
        let queue = PasswordHashQueue(depth: 4, perClient: 2)
        let gate = Gate()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<4 {
                group.addTask { try await queue.run(client: "198.51.100.\(index)") { await gate.wait() } }
            }
            try await waitUntil { gate.waiting == 4 }
            var refused = 0
            for index in 10..<60 {
                do { try await queue.run(client: "198.51.100.\(index)") {} } catch {
                    expectBusy(error)
                    refused += 1
                }
            }
            #expect(refused == 50)
            #expect(queue.held == 4)
            gate.open()
            try await group.waitForAll()
        }
        #expect(queue.highWater == 4)
        #expect(queue.held == 0)
    }

    /// Requests of unknown origin cannot be told apart: one share for all of them would
    /// limit an embedding without peer addresses to two hashes at once.
    @Test func unknownClientsAreHeldOnlyToTheTotal() async throws {
        let queue = PasswordHashQueue(depth: 4, perClient: 1)
        let gate = Gate()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask { try await queue.run(client: PasswordHashQueue.unknownClient) { await gate.wait() } }
            }
            try await waitUntil { gate.waiting == 4 }
            do {
                try await queue.run(client: PasswordHashQueue.unknownClient) {}
                Issue.record("a fifth slot was given")
            } catch {
                expectBusy(error)
            }
            gate.open()
            try await group.waitForAll()
        }
    }

    @Test func aFailingHashGivesItsSlotBack() async throws {
        struct Failure: Error {}
        let queue = PasswordHashQueue(depth: 1, perClient: 1)
        await #expect(throws: Failure.self) { try await queue.run(client: "a") { throw Failure() } }
        #expect(queue.held == 0)
        #expect(try await queue.run(client: "a") { 7 } == 7)
    }

    /// About two seconds of work for the cores: bounded at cost 12, roomy at test costs.
    @Test func theDefaultDepthFollowsCostAndCores() {
        #expect(PasswordHashQueue.defaultDepth(cost: 12, cores: 2) == 14)
        #expect(PasswordHashQueue.defaultDepth(cost: 10, cores: 2) == 57)
        #expect(PasswordHashQueue.defaultDepth(cost: 31, cores: 2) == 4)
        #expect(PasswordHashQueue.defaultDepth(cost: 4, cores: 8) > 1_000)
        #expect(PasswordHashQueue(depth: 14).perClient == 2)
        #expect(PasswordHashQueue(depth: 57).perClient == 7)
    }
}

@Suite struct BcryptCostTests {
    @Test func theCostIsReadFromStoredHashes() {
        #expect(BcryptPasswordHasher.cost(of: "$2b$12$abcdefghijklmnopqrstuv") == 12)
        #expect(BcryptPasswordHasher.cost(of: "$2a$04$abc") == 4)
        #expect(BcryptPasswordHasher.cost(of: "$2y$31$") == 31)
        for bad in ["", "$2b$3$", "$2b$32$", "$2x$12$", "$1$12$", "2b$12$x", "$2b$1a$"] {
            #expect(BcryptPasswordHasher.cost(of: bad) == nil, "\(bad)")
        }
    }

    @Test func dummiesMatchTheCostOfTheHashTheyStandFor() async throws {
        let hasher = BcryptPasswordHasher(cost: 5)
        let old = "$2b$04$" + String(repeating: "a", count: 53)
        #expect(hasher.dummyHash(like: old).hasPrefix("$2b$04$"))
        #expect(hasher.dummyHash(like: old) == hasher.dummyHash(like: old))
        #expect(hasher.dummyHash(like: "garbage") == hasher.dummyHash)
        #expect(try await hasher.verify("anything", against: hasher.dummyHash(like: old)) == false)
        #expect(hasher.needsRehash(old))
        #expect(!hasher.needsRehash(try await hasher.hash("password1")))
        #expect(!hasher.needsRehash("not bcrypt"))
    }
}
