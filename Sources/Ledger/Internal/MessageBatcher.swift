import Synchronization

/// Turns a stream of single messages into batches: up to `maxCount`, or whatever arrived
/// within `linger` of the first message of the batch.
///
/// One task appends what the consumer delivers; one task takes batches. Batching keeps one
/// SQLite transaction per few hundred records under load, while the linger bound keeps a lone
/// record from waiting long when traffic is light.
///
/// The buffer holds only messages that were delivered and not yet marked done, so the
/// consumer's own bound on outstanding messages bounds it too.
final class MessageBatcher<Element: Sendable>: Sendable {
    private struct Waiter {
        var id: UInt64
        var threshold: Int
        var continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var buffer: [Element] = []
        var isFinished = false
        var waiter: Waiter?
        var nextWaiterID: UInt64 = 0
    }

    private let state = Mutex(State())

    // MARK: - Input

    /// Adds a message, waking the batch taker when it has waited for enough of them.
    func append(_ element: Element) {
        let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.buffer.append(element)
            guard let waiter = state.waiter, state.buffer.count >= waiter.threshold else { return nil }
            state.waiter = nil
            return waiter.continuation
        }
        continuation?.resume()
    }

    /// Marks the end of input: the taker drains what is buffered, then gets nil.
    func finish() {
        let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.isFinished = true
            defer { state.waiter = nil }
            return state.waiter?.continuation
        }
        continuation?.resume()
    }

    /// How many messages wait to be taken.
    var count: Int { state.withLock { $0.buffer.count } }

    // MARK: - Output

    /// The next batch: waits for a first message, then up to `linger` for `maxCount` of them.
    ///
    /// - Returns: nil once input has finished and everything was taken, or when the task is
    ///   cancelled with nothing buffered.
    func nextBatch(maxCount: Int, linger: Duration) async -> [Element]? {
        let maxCount = max(1, maxCount)
        await waitUntil(count: 1)
        if !hasBatchReady(maxCount) {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.waitUntil(count: maxCount) }
                group.addTask { try? await Task.sleep(for: linger) }
                await group.next()
                group.cancelAll()
            }
        }
        return state.withLock { state -> [Element]? in
            guard !state.buffer.isEmpty else { return nil }
            let taken = min(maxCount, state.buffer.count)
            defer { state.buffer.removeFirst(taken) }
            return Array(state.buffer.prefix(taken))
        }
    }

    private func hasBatchReady(_ maxCount: Int) -> Bool {
        state.withLock { $0.isFinished || $0.buffer.count >= maxCount }
    }

    /// Suspends until `count` messages are buffered, input has finished, or the task is
    /// cancelled. Only the batch taker waits, so there is at most one waiter.
    private func waitUntil(count: Int) async {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    // Checked under the lock: the cancellation handler takes the same lock, so
                    // either it sees the waiter or this sees the cancellation.
                    if state.isFinished || state.buffer.count >= count || Task.isCancelled { return true }
                    precondition(state.waiter == nil, "MessageBatcher has a single batch taker")
                    state.waiter = Waiter(id: id, threshold: count, continuation: continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
                guard let waiter = state.waiter, waiter.id == id else { return nil }
                state.waiter = nil
                return waiter.continuation
            }
            continuation?.resume()
        }
    }
}
