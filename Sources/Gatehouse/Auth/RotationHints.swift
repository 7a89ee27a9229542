import Foundation
import Synchronization

/// The generation this process last rotated each recent session to: a hint that lets a
/// refresh presenting an older token skip the one-statement rotation (which could not
/// match) and read the session at once. Only a hint: another instance of a fleet may have
/// rotated since, and then the rotation statement simply matches nothing. Bounded: when
/// full it starts again empty, which costs a few refreshes one extra statement.
final class RotationHints: Sendable {
    static let capacity = 4_096
    private let generations = Mutex<[UUID: Int]>([:])

    /// Records that this process rotated `session` to `generation`.
    func rotated(_ session: UUID, to generation: Int) {
        generations.withLock { generations in
            if generations.count >= Self.capacity, generations[session] == nil { generations.removeAll(keepingCapacity: true) }
            generations[session] = max(generation, generations[session] ?? 0)
        }
    }

    /// How many sessions are remembered.
    var count: Int { generations.withLock { $0.count } }

    /// Whether `generation` is known to be spent: this process rotated past it.
    func isSpent(_ session: UUID, generation: Int) -> Bool {
        generations.withLock { ($0[session] ?? Int.min) > generation }
    }
}
