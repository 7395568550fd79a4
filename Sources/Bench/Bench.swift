import Foundation
import SluiceCore
import SluiceHTTP

/// The load generator behind `sluice bench`: submits jobs through the public API, then polls
/// until they are done, and reports throughput and latency.
///
/// It measures what a client sees — accept latency, and end-to-end latency as the server
/// recorded it — so it runs against a real `sluice serve` (usually with the stub provider
/// behind it), never against internals.
public enum Bench {
    /// Runs one benchmark.
    ///
    /// - Parameters:
    ///   - log: Progress lines (phase starts, poll rounds); the report is returned, not logged.
    /// - Throws: ``CurlError`` only when the HTTP client cannot start; failed requests are
    ///   counted in the report instead.
    public static func run(_ configuration: BenchConfiguration, log: (String) -> Void) async throws -> BenchReport {
        let concurrency = max(1, configuration.concurrency)
        let client = try CurlHTTPClient(
            configuration: .init(maxConnectionsPerHost: concurrency, maxTotalConnections: concurrency))
        defer { client.shutdown() }
        let api = BenchAPI(client: client, configuration: configuration)

        log("submitting \(configuration.jobs) jobs to \(api.baseURL) at concurrency \(concurrency)")
        let firstSubmit = ContinuousClock.now
        let submissions = await concurrentMap(count: max(0, configuration.jobs), concurrency: concurrency, log: log) { index in
            await api.submit(index: index)
        }
        let acceptSeconds = seconds(ContinuousClock.now - firstSubmit)
        let ids = submissions.compactMap(\.id)
        var errorSamples: [String] = []  // the first few distinct ones
        for error in submissions.lazy.compactMap(\.error) where errorSamples.count < 5 && !errorSamples.contains(error) {
            errorSamples.append(error)
        }
        log("accepted \(ids.count), rejected \(submissions.count - ids.count) in \(String(format: "%.2f", acceptSeconds)) s")

        let polled = await poll(
            ids, api: api, concurrency: concurrency, timeout: .seconds(max(0, configuration.completionTimeoutSeconds)), log: log)
        let lastTerminal = polled.lastTerminalSeen ?? ContinuousClock.now
        let views = polled.terminal

        return BenchReport(
            accepted: ids.count,
            rejected: submissions.count - ids.count,
            succeeded: views.count { $0.status == JobStatus.succeeded.rawValue },
            failed: views.count { $0.status == JobStatus.failed.rawValue },
            cancelled: views.count { $0.status == JobStatus.cancelled.rawValue },
            unfinished: polled.unfinished,
            acceptSeconds: acceptSeconds,
            completeSeconds: ids.isEmpty ? 0 : seconds(lastTerminal - firstSubmit),
            acceptLatency: LatencySummary(samplesMs: submissions.map(\.latencyMs)),
            endToEndLatency: LatencySummary(samplesMs: views.compactMap(\.endToEndMs)),
            errorSamples: errorSamples)
    }

    // MARK: - Polling

    private struct PollOutcome {
        var terminal: [BenchAPI.JobPoll]
        var unfinished: Int
        var lastTerminalSeen: ContinuousClock.Instant?
    }

    /// Polls the unfinished jobs round after round until all are terminal or `timeout` passes.
    private static func poll(
        _ ids: [String], api: BenchAPI, concurrency: Int, timeout: Duration, log: (String) -> Void
    ) async -> PollOutcome {
        let deadline = ContinuousClock.now + timeout
        var pending = ids
        var outcome = PollOutcome(terminal: [], unfinished: 0, lastTerminalSeen: nil)
        outcome.terminal.reserveCapacity(ids.count)
        var round = 0
        while !pending.isEmpty && ContinuousClock.now < deadline {
            round += 1
            let roundStart = ContinuousClock.now
            let polls = await concurrentMap(count: pending.count, concurrency: concurrency, log: { _ in }) { [pending] index in
                await api.poll(id: pending[index])
            }
            var stillPending: [String] = []
            for (id, poll) in zip(pending, polls) {
                guard let poll, poll.isTerminal else {
                    stillPending.append(id)
                    continue
                }
                outcome.terminal.append(poll)
                outcome.lastTerminalSeen = max(outcome.lastTerminalSeen ?? poll.seenAt, poll.seenAt)
            }
            pending = stillPending
            log("poll round \(round): \(outcome.terminal.count) terminal, \(pending.count) pending")
            // A round over thousands of jobs takes long enough; a short one waits a little so
            // that an idle tail does not hammer the ledger.
            let pause = Self.minimumRound - (ContinuousClock.now - roundStart)
            if !pending.isEmpty && pause > .zero { try? await Task.sleep(for: pause) }
        }
        outcome.unfinished = pending.count
        if !pending.isEmpty { log("gave up on \(pending.count) unfinished jobs after the completion timeout") }
        return outcome
    }

    private static let minimumRound: Duration = .milliseconds(250)

    // MARK: - Helpers

    /// Runs `work` for every index in `0..<count` with at most `concurrency` in flight, and
    /// returns the results in index order.
    ///
    /// A sliding window of child tasks rather than `concurrency` long-lived workers, so that
    /// the parent can report progress between completions.
    static func concurrentMap<T: Sendable>(
        count: Int, concurrency: Int, log: (String) -> Void, _ work: @escaping @Sendable (Int) async -> T
    ) async -> [T] {
        await withTaskGroup(of: (Int, T).self, returning: [T].self) { group in
            var results: [T?] = Array(repeating: nil, count: count)
            var next = 0
            var done = 0
            var lastReport = ContinuousClock.now
            while next < min(count, concurrency) {
                let index = next
                group.addTask { (index, await work(index)) }
                next += 1
            }
            while let (index, result) = await group.next() {
                results[index] = result
                done += 1
                if next < count {
                    let index = next
                    group.addTask { (index, await work(index)) }
                    next += 1
                }
                if ContinuousClock.now - lastReport >= .seconds(2) {
                    lastReport = ContinuousClock.now
                    log("  \(done)/\(count)")
                }
            }
            return results.map { $0! }
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
