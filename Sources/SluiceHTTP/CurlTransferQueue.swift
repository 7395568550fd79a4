import Synchronization

/// The hand-over point between the tasks that call ``CurlHTTPClient/execute(_:)`` and the
/// thread that runs libcurl.
///
/// Callers enqueue and cancel under a `Mutex`, then wake the loop; the loop drains everything
/// in one lock per turn. Continuations are resumed only outside the lock.
final class CurlTransferQueue: Sendable {
    private let state = Mutex(StateMachine())
    private let multi: CurlMulti

    init(multi: CurlMulti) {
        self.multi = multi
    }

    // MARK: - Callers

    /// A fresh transfer id; pass it to ``submit(id:request:continuation:)`` and ``cancel(_:)``.
    func allocate() -> UInt64 {
        state.withLock { $0.allocate() }
    }

    func submit(id: UInt64, request: HTTPClientRequest, continuation: CheckedContinuation<HTTPClientResponse, any Error>) {
        let submission = Submission(id: id, request: request, continuation: continuation)
        switch state.withLock({ $0.submit(submission) }) {
        case .none: break
        case .wakeLoop: multi.wakeup()
        case .fail(let continuation, let error): continuation.resume(throwing: error)
        }
    }

    /// Fails the transfer with `CancellationError`, now if it is still queued, or after the
    /// loop has detached it from libcurl.
    func cancel(_ id: UInt64) {
        switch state.withLock({ $0.cancel(id) }) {
        case .none: break
        case .wakeLoop: multi.wakeup()
        case .fail(let continuation): continuation.resume(throwing: CancellationError())
        }
    }

    /// Fails queued requests and tells the loop to fail running ones and stop.
    func shutdown() {
        guard let waiting = state.withLock({ $0.shutdown() }) else { return }
        multi.wakeup()
        for continuation in waiting { continuation.resume(throwing: CurlError.shutdown) }
    }

    // MARK: - Loop thread

    func drain() -> Batch {
        state.withLock { $0.drain() }
    }

    func finish(_ ids: [UInt64]) {
        guard !ids.isEmpty else { return }
        state.withLock { $0.finish(ids) }
    }
}
