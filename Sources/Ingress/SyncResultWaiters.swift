import Synchronization

/// Synchronous completions waiting for their jobs' results, woken when a result record passes
/// (``SyncResultListener``) instead of each reading the ledger every few milliseconds.
///
/// A request registers its job before queueing it, so a result that arrives before the
/// request starts waiting is not missed. Waking only says "the result is on the topic": the
/// answer is still read from the ledger (which has the restored, decrypted view of it), and a
/// waiter that is not woken reads the ledger anyway every ``fallbackInterval``, so a listener
/// that is down costs latency, never an answer.
public final class SyncResultWaiters: Sendable {
    private struct State {
        /// Jobs a request awaits; true once their result passed.
        var expected: [String: Bool] = [:]
        var waiting: [String: CheckedContinuation<Bool, Never>] = [:]
    }

    private let state = Mutex(State())

    /// How long a waiter sleeps before it reads the ledger without having been woken.
    public static let fallbackInterval: Duration = .seconds(1)

    public init() {}

    /// Waiting requests now (for tests and metrics).
    public var count: Int { state.withLock { $0.expected.count } }

    /// Whether a request is asleep waiting for `jobID` now (for tests).
    func isWaiting(_ jobID: String) -> Bool { state.withLock { $0.waiting[jobID] != nil } }

    /// Registers `jobID` before its job is queued; pair with ``forget(_:)``.
    func expect(_ jobID: String) {
        state.withLock { $0.expected[jobID] = false }
    }

    /// Drops the registration (the request answered or gave up).
    func forget(_ jobID: String) {
        let waiter = state.withLock { state in
            state.expected[jobID] = nil
            return state.waiting.removeValue(forKey: jobID)
        }
        waiter?.resume(returning: false)
    }

    /// Called for every result record: wakes the request awaiting `jobID`, if any.
    public func resultArrived(jobID: String) {
        let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            guard state.expected[jobID] != nil else { return nil }
            state.expected[jobID] = true
            return state.waiting.removeValue(forKey: jobID)
        }
        waiter?.resume(returning: true)
    }

    /// Waits until the result of `jobID` passed (true) or `timeout` is over (false).
    func wait(for jobID: String, timeout: Duration) async -> Bool {
        await withCheckedContinuation { continuation in
            let arrived = state.withLock { state -> Bool? in
                guard let arrived = state.expected[jobID] else { return false }
                if arrived { return true }
                state.waiting[jobID] = continuation
                return nil
            }
            if let arrived {
                continuation.resume(returning: arrived)
                return
            }
            // The timer is a task of its own: a waiter woken first makes it a no-op.
            Task { [weak self] in
                try? await Task.sleep(for: timeout)
                let waiter = self?.state.withLock { $0.waiting.removeValue(forKey: jobID) }
                waiter?.resume(returning: false)
            }
        }
    }
}
