import Synchronization

/// Shares one SQLite connection between single statements and transactions.
///
/// Any number of single statements may be in flight on the connection at once (SQLite
/// runs them one after another itself). A transaction must have the connection alone:
/// between its `BEGIN` and `COMMIT`, another task's statement on the same connection
/// would silently become part of it. So a transaction waits for the statements in flight
/// to finish, and statements that arrive while a transaction runs or waits wait for it.
/// A statement that finds no transaction running or waiting passes without suspending,
/// so the common case costs one lock.
///
/// (Written here rather than taken from a library: none of the listed packages offers an
/// async shared/exclusive gate.)
final class ConnectionGate: Sendable {
    private struct State {
        var statements = 0
        var transaction = false
        var waitingStatements: [CheckedContinuation<Void, Never>] = []
        var waitingTransactions: [CheckedContinuation<Void, Never>] = []

        /// Admits a statement if nothing exclusive runs or waits.
        mutating func admitStatement() -> Bool {
            guard !transaction, waitingTransactions.isEmpty else { return false }
            statements += 1
            return true
        }

        mutating func admitTransaction() -> Bool {
            guard !transaction, statements == 0 else { return false }
            transaction = true
            return true
        }
    }

    private let state = Mutex(State())

    /// Runs one statement's work.
    func statement<T>(_ body: () async throws -> T) async throws -> T {
        if !state.withLock({ $0.admitStatement() }) {
            await withCheckedContinuation { continuation in
                let admitted = state.withLock { state in
                    if state.admitStatement() { return true }
                    state.waitingStatements.append(continuation)
                    return false
                }
                if admitted { continuation.resume() }
            }
        }
        defer { leaveStatement() }
        return try await body()
    }

    /// Runs `body` with the connection to itself.
    func transaction<T>(_ body: () async throws -> T) async throws -> T {
        let admitted = state.withLock { state in
            state.waitingTransactions.isEmpty && state.admitTransaction()
        }
        if !admitted {
            await withCheckedContinuation { continuation in
                let admitted = state.withLock { state in
                    if state.waitingTransactions.isEmpty, state.admitTransaction() { return true }
                    state.waitingTransactions.append(continuation)
                    return false
                }
                if admitted { continuation.resume() }
            }
        }
        defer { leaveTransaction() }
        return try await body()
    }

    private func leaveStatement() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.statements -= 1
            guard state.statements == 0, !state.transaction, !state.waitingTransactions.isEmpty else { return nil }
            state.transaction = true
            return state.waitingTransactions.removeFirst()
        }
        next?.resume()
    }

    private func leaveTransaction() {
        let (statements, transaction) = state.withLock { state -> ([CheckedContinuation<Void, Never>], CheckedContinuation<Void, Never>?) in
            state.transaction = false
            // Statements that waited go first, all at once; the next transaction then
            // waits for them (and holds back newer statements meanwhile).
            if !state.waitingStatements.isEmpty {
                let waiting = state.waitingStatements
                state.waitingStatements = []
                state.statements += waiting.count
                return (waiting, nil)
            }
            guard !state.waitingTransactions.isEmpty else { return ([], nil) }
            state.transaction = true
            return ([], state.waitingTransactions.removeFirst())
        }
        for continuation in statements { continuation.resume() }
        transaction?.resume()
    }
}
