/// The body of a ``CurlHTTPClient``'s thread: drives libcurl and delivers outcomes.
///
/// Built on that thread and never shared, so its pool and table of running transfers need
/// no lock. `curl_multi_poll` blocks, which is why this is a thread and not a task: on the
/// cooperative pool it would stall unrelated work.
final class CurlTransferLoop {
    private struct Running {
        var easy: CurlEasy
        var continuation: CheckedContinuation<HTTPClientResponse, any Error>
    }

    private let queue: CurlTransferQueue
    private let multi: CurlMulti
    private let configuration: CurlHTTPClientConfiguration
    private var running: [UInt64: Running] = [:]
    /// Reset handles ready for the next request, at most `maxTotalConnections`.
    private var pool: [CurlEasy] = []

    /// How long one poll may sleep with nothing to do. Wakeups and libcurl's own timers cut
    /// it short, so this only bounds how stale a missed wakeup could make the loop.
    private static let idlePollMs: Int32 = 1_000

    init(queue: CurlTransferQueue, multi: CurlMulti, configuration: CurlHTTPClientConfiguration) {
        self.queue = queue
        self.multi = multi
        self.configuration = configuration
    }

    /// Runs until the client shuts down, then fails what is still running and frees libcurl.
    func run() {
        while true {
            let batch = queue.drain()
            if batch.isShutdown {
                stop()
                return
            }
            for id in batch.cancellations { abandon(id) }
            for submission in batch.submissions { start(submission) }
            multi.perform()
            deliver(multi.completions())
            multi.poll(timeoutMs: Self.idlePollMs)
        }
    }

    // MARK: - Transfers

    private func start(_ submission: CurlTransferQueue.Submission) {
        guard let easy = pool.popLast() ?? CurlEasy() else {
            fail(submission, CurlError.outOfMemory)
            return
        }
        do {
            try easy.prepare(
                id: submission.id, request: submission.request, connectTimeoutMs: configuration.connectTimeoutMs,
                maxResponseBytes: configuration.maxResponseBytes
            )
        } catch {
            recycle(easy)
            fail(submission, error)
            return
        }
        guard multi.add(easy) else {
            recycle(easy)
            fail(submission, CurlError.refused)
            return
        }
        running[submission.id] = Running(easy: easy, continuation: submission.continuation)
    }

    private func deliver(_ completions: [CurlMulti.Completion]) {
        guard !completions.isEmpty else { return }
        var outcomes: [(CheckedContinuation<HTTPClientResponse, any Error>, Result<HTTPClientResponse, CurlError>)] = []
        outcomes.reserveCapacity(completions.count)
        for completion in completions {
            guard let transfer = running.removeValue(forKey: completion.id) else { continue }
            multi.remove(transfer.easy)
            let outcome: Result<HTTPClientResponse, CurlError> =
                completion.succeeded ? .success(transfer.easy.takeResponse()) : .failure(transfer.easy.failure(code: completion.code))
            recycle(transfer.easy)
            outcomes.append((transfer.continuation, outcome))
        }
        queue.finish(completions.map(\.id))
        for (continuation, outcome) in outcomes {
            continuation.resume(with: outcome.mapError { $0 as any Error })
        }
    }

    /// Detaches a transfer whose caller was cancelled; libcurl closes its connection.
    private func abandon(_ id: UInt64) {
        guard let transfer = running.removeValue(forKey: id) else { return }
        multi.remove(transfer.easy)
        recycle(transfer.easy)
        queue.finish([id])
        transfer.continuation.resume(throwing: CancellationError())
    }

    private func stop() {
        let abandoned = running
        running = [:]
        for transfer in abandoned.values {
            multi.remove(transfer.easy)
        }
        pool = []
        queue.finish(Array(abandoned.keys))
        multi.close()
        for transfer in abandoned.values {
            transfer.continuation.resume(throwing: CurlError.shutdown)
        }
    }

    // MARK: - Helpers

    private func fail(_ submission: CurlTransferQueue.Submission, _ error: CurlError) {
        queue.finish([submission.id])
        submission.continuation.resume(throwing: error)
    }

    private func recycle(_ easy: CurlEasy) {
        guard pool.count < configuration.maxTotalConnections else { return }  // dropping it frees it
        easy.recycle()
        pool.append(easy)
    }
}
