import Kafka
import Ledger
import Logging
import Metrics
import ServiceLifecycle
import SluiceCore
import Synchronization
import Workers

/// What the status page (`/` and `/v1/status`) shows: a Service that samples this process's
/// figures every second into a short history, and answers snapshots from it.
///
/// Every figure is this process's own (its consumers, its worker pools, the metrics it
/// recorded), except tenants and failures, which come from the ledger file and so cover the
/// whole deployment. The DLQ is counted from its topic every 15 s, off the request path.
final class StatusBoard: Service, Sendable {
    /// One history point.
    struct Point: Sendable {
        var atMs: Int64
        var accepted: Int64
        var finished: Int64
        var failed: Int64
        /// The worker group's lag on this process's partitions (which includes the jobs it holds),
        /// or the jobs it holds when that is more.
        var backlog: Int64
    }

    /// Five minutes at one point a second.
    static let historyLength = 300

    private let operations: ProcessOperations
    private let store: LedgerStore?
    private let deadLetters: DeadLetterQueue?
    /// For DLQ replays from the page; running (the process's producer service).
    private let producer: KafkaProducer?
    private let workersGroup: String
    private let role: String
    private let clock: WallClock
    private let logger: Logger
    private let history = Mutex<[Point]>([])
    /// Unreplayed DLQ records (nil until first counted) and whether the count hit its bound.
    private let deadLetterCount = Mutex<(count: Int, capped: Bool, error: String?)?>(nil)
    private static let deadLetterCountLimit = 10_000
    private let recountRequested = Atomic(false)

    init(
        operations: ProcessOperations, store: LedgerStore?, deadLetters: DeadLetterQueue?, producer: KafkaProducer?,
        workersGroup: String, role: String, clock: WallClock = .system, logger: Logger
    ) {
        self.producer = producer
        self.operations = operations
        self.store = store
        self.deadLetters = deadLetters
        self.workersGroup = workersGroup
        self.role = role
        self.clock = clock
        self.logger = logger
    }

    // MARK: - Service

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.sampleEverySecond() }
                if self.deadLetters != nil { group.addTask { await self.countDeadLetters() } }
            }
        }
    }

    private func sampleEverySecond() async {
        while !Task.isCancelled {
            sample()
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// Counts every 15 s, or at once after a replay (``recountDeadLetters()``).
    private func countDeadLetters() async {
        guard let deadLetters else { return }
        while !Task.isCancelled {
            do {
                let records = try await deadLetters.list(tenant: nil, limit: Self.deadLetterCountLimit)
                let dead = records.filter { !$0.replayed }.count
                deadLetterCount.withLock { $0 = (dead, records.count >= Self.deadLetterCountLimit, nil) }
                // `sluice_dlq_unreplayed`: what the page shows, for the DLQ-growth alert.
                Gauge(label: "sluice_dlq_unreplayed").record(dead)
            } catch {
                logger.debug("cannot count the DLQ for the status page", metadata: ["error": "\(error)"])
                deadLetterCount.withLock { $0 = ($0?.count ?? 0, $0?.capped ?? false, "\(error)") }
            }
            var waits = 0
            while waits < 30, !recountRequested.exchange(false, ordering: .relaxed) {
                try? await Task.sleep(for: .milliseconds(500))
                if Task.isCancelled { return }
                waits += 1
            }
        }
    }

    /// Takes one history point now.
    func sample() {
        let tap = StatusTap.shared
        let pools = operations.workerPools.map(\.status)
        let held = Int64(pools.reduce(0) { $0 + $1.queued + $1.calling })
        let point = Point(
            atMs: clock.nowMs(), accepted: tap.total("sluice_jobs_accepted_total"),
            finished: StatusTap.resultStatuses.reduce(0) { $0 + tap.total("sluice_results_total:\($1)") },
            failed: tap.total("sluice_results_total:failed"),
            // The lag already counts what this process holds (it runs from the lowest unfinished
            // offset); without a lag figure, what is held is the best known.
            backlog: max(held, operations.lag(group: workersGroup) ?? 0))
        history.withLock { history in
            history.append(point)
            if history.count > Self.historyLength { history.removeFirst(history.count - Self.historyLength) }
        }
    }

    /// Re-counts the DLQ soon (after a replay).
    func recountDeadLetters() {
        recountRequested.store(true, ordering: .relaxed)
    }

    /// Replays every unreplayed DLQ record (the `sluice dlq replay --all` path) and answers
    /// `{replayed, skipped, job_ids}`.
    func replayDeadLetters(actor: String) async throws -> JSONValue {
        guard let deadLetters, let producer else { return ["replayed": 0, "skipped": 0, "job_ids": []] }
        let report = try await deadLetters.replay(jobID: nil, all: true, tenant: nil, producer: producer, actor: actor)
        recountDeadLetters()
        logger.notice("DLQ replayed from the status page", metadata: ["actor": "\(actor)", "replayed": "\(report.replayed.count)"])
        return [
            "replayed": .int(Int64(report.replayed.count)), "skipped": .int(Int64(report.skipped.count)),
            "job_ids": .array(report.replayed.compactMap { $0.jobID.map(JSONValue.string) }),
        ]
    }

    // MARK: - Snapshot

    /// The `/v1/status` body.
    func snapshot() async -> JSONValue {
        let points = history.withLock { $0 }
        var fields: [String: JSONValue] = [
            "generated_at_ms": .int(clock.nowMs()), "role": .string(role), "instance": .string(Wiring.instance),
            "sample_interval_ms": 1_000,
        ]
        // Rates between consecutive points, per second.
        var series: [JSONValue] = []
        for (previous, point) in zip(points, points.dropFirst()) {
            let seconds = max(0.001, Double(point.atMs - previous.atMs) / 1_000)
            func rate(_ a: Int64, _ b: Int64) -> JSONValue { .double(((Double(max(0, b - a)) / seconds) * 100).rounded() / 100) }
            series.append(JSONValue.object([
                "at_ms": .int(point.atMs), "backlog": .int(point.backlog), "accepted_per_s": rate(previous.accepted, point.accepted),
                "finished_per_s": rate(previous.finished, point.finished), "failed_per_s": rate(previous.failed, point.failed),
            ]))
        }
        fields["history"] = .array(series)
        let last = points.last
        fields["totals"] = [
            "accepted": .int(last?.accepted ?? 0), "finished": .int(last?.finished ?? 0), "failed": .int(last?.failed ?? 0),
            "backlog": .int(last?.backlog ?? 0),
        ]
        var latency: [String: JSONValue] = [:]
        for (name, label) in [
            ("queue_wait", "sluice_job_queue_wait_seconds"), ("provider", "sluice_provider_latency_seconds"),
            ("end_to_end", "sluice_job_latency_seconds"),
        ] {
            let values = StatusTap.shared.recentSeconds(label).sorted()
            var entry: [String: JSONValue] = ["samples": .int(Int64(values.count))]
            for (key, q) in [("p50", 0.5), ("p90", 0.9), ("p99", 0.99)] {
                entry[key] = LatencySamples.quantile(q, of: values).map { .double(($0 * 1_000).rounded() / 1_000) } ?? .null
            }
            latency[name] = .object(entry)
        }
        fields["latency_seconds"] = .object(latency)
        fields["deployments"] = .array(operations.workerPools.flatMap(\.status.deployments).map { d -> JSONValue in
            ["label": .string(d.label), "provider": .string(d.provider), "model": .string(d.model), "breaker": .string(d.breaker),
             "in_flight": .int(Int64(d.inFlight))]
        })
        if let store {
            do {
                let status = try await store.status(failures: 20)
                fields["tenants"] = .array(status.tenants.map { usage -> JSONValue in
                    [
                        "tenant": .string(usage.tenant), "succeeded": .int(Int64(usage.succeeded)), "failed": .int(Int64(usage.failed)),
                        "total_tokens": .int(usage.totalTokens),
                        "cost": .object(usage.cost.mapValues { JSONValue.double(($0 * 1_000_000).rounded() / 1_000_000) }),
                    ]
                })
                fields["recent_failures"] = .array(status.failures.map { f -> JSONValue in
                    [
                        "job_id": .string(f.jobID), "tenant": .string(f.tenant), "model": .string(f.model), "code": .string(f.code),
                        "message": .string(f.message), "finished_at_ms": .int(f.finishedAtMs),
                    ]
                })
                fields["ledger_window"] = .int(Int64(status.window))
            } catch {
                fields["ledger_error"] = .string("\(error)")
            }
        }
        if let count = deadLetterCount.withLock({ $0 }) {
            var dlq: [String: JSONValue] = ["size": .int(Int64(count.count)), "capped": .bool(count.capped)]
            if let error = count.error { dlq["error"] = .string(error) }
            fields["dlq"] = .object(dlq)
        }
        return .object(fields)
    }
}
