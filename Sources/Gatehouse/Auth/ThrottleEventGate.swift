import Foundation
import Synchronization

/// Lets through at most one `login.throttled` event per refusing key and minute, and at
/// most `perMinute` in all: a flood of refused logins must not become a flood of rows,
/// however many addresses or emails it cycles through. Bounded memory: when full it
/// starts again empty.
final class ThrottleEventGate: Sendable {
    static let capacity = 10_000
    static let interval: TimeInterval = 60
    static let perMinute = 120

    private struct State {
        var last: [String: Date] = [:]
        var minute = 0
        var inMinute = 0
    }

    private let state = Mutex(State())

    func shouldRecord(_ key: String, at date: Date) -> Bool {
        state.withLock { state in
            if let last = state.last[key], date.timeIntervalSince(last) < Self.interval { return false }
            let minute = Int(date.timeIntervalSince1970 / 60)
            if minute != state.minute {
                state.minute = minute
                state.inMinute = 0
            }
            guard state.inMinute < Self.perMinute else { return false }
            state.inMinute += 1
            if state.last.count >= Self.capacity { state.last.removeAll(keepingCapacity: true) }
            state.last[key] = date
            return true
        }
    }
}
