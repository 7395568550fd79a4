import Synchronization

/// A one-shot "it is over" signal that async code can wait for.
///
/// The poll threads signal it when they have destroyed their librdkafka instance, so `run()`
/// returns only when nothing is left running; waiting after the signal returns at once.
final class CompletionLatch: Sendable {
    private struct State {
        var isSignalled = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    var isSignalled: Bool {
        state.withLock { $0.isSignalled }
    }

    /// Marks the latch as signalled and wakes every waiter.
    func signal() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.isSignalled = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters {
            waiter.resume()
        }
    }

    /// Suspends until `signal()` was called.
    func wait() async {
        await withCheckedContinuation { continuation in
            let alreadySignalled = state.withLock { state -> Bool in
                if state.isSignalled { return true }
                state.waiters.append(continuation)
                return false
            }
            if alreadySignalled {
                continuation.resume()
            }
        }
    }
}
