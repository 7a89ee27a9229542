import Foundation
import Testing

@testable import Gatehouse

@Suite struct RotationHintsTests {
    @Test func onlyGenerationsBelowTheLastRotationAreSpent() {
        let hints = RotationHints()
        let session = UUID()
        #expect(!hints.isSpent(session, generation: 0))
        hints.rotated(session, to: 3)
        #expect(hints.isSpent(session, generation: 2))
        #expect(!hints.isSpent(session, generation: 3))
        #expect(!hints.isSpent(session, generation: 4))
        // A late report of an older rotation never lowers what is known.
        hints.rotated(session, to: 1)
        #expect(hints.isSpent(session, generation: 2))
        #expect(!hints.isSpent(UUID(), generation: 0))
    }

    @Test func staysBoundedByStartingAgainWhenFull() {
        let hints = RotationHints()
        let first = UUID()
        hints.rotated(first, to: 1)
        for _ in 0..<(RotationHints.capacity - 1) { hints.rotated(UUID(), to: 1) }
        #expect(hints.isSpent(first, generation: 0))
        hints.rotated(UUID(), to: 1)
        #expect(!hints.isSpent(first, generation: 0))
        #expect(hints.count == 1)
    }
}
