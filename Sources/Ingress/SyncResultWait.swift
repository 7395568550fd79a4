import Metrics
import SluiceCore

/// How a synchronous completion waits for its job with ``SyncResultWaiters``: asleep until the
/// result passes on the results topic (or a fallback second is over), then reading the ledger,
/// which records the result a moment after it passed.
struct SyncResultWait {
    let waiters: SyncResultWaiters
    let jobs: any JobLookup

    /// Ledger reads after a wake-up, while the ledger catches up with the result.
    static let catchUpDelaysMs = [2, 5, 10, 20, 50]

    /// The finished job, or nil when `deadline` came first (the caller reads the ledger once
    /// more and answers 504).
    func awaitTerminal(_ job: JobEnvelope, until deadline: ContinuousClock.Instant) async throws -> JobView? {
        var woken = false
        var reads = 0
        while ContinuousClock.now < deadline {
            if woken {
                let delay = Self.catchUpDelaysMs[min(reads, Self.catchUpDelaysMs.count - 1)]
                try await Task.sleep(for: min(.milliseconds(delay), deadline - .now))
                reads += 1
            } else {
                woken = await waiters.wait(for: job.id, timeout: min(SyncResultWaiters.fallbackInterval, deadline - .now))
                try Task.checkCancellation()
            }
            // A ledger briefly unreadable (a checkpoint, a busy lock): keep waiting.
            guard let view = try? await jobs.job(id: job.id, tenant: job.tenant), view.status.isTerminal else { continue }
            // How the answer was found: woken by the listener, or by the fallback read.
            Counter(label: "sluice_sync_results_total", dimensions: [("found_by", woken ? "wakeup" : "ledger_read")]).increment()
            return view
        }
        return nil
    }
}
