import CoreMetrics
import Synchronization

/// A second metrics backend beside Prometheus that keeps, in memory, the few figures the
/// status page charts: totals of some counters and the recent values of the latency timers.
///
/// Prometheus keeps histograms (buckets), from which no honest percentile of the last minutes
/// can be read; the tap keeps the last ``LatencySamples/capacity`` values of each timer instead.
/// Every other metric gets a handler that does nothing.
final class StatusTap: MetricsFactory, Sendable {
    static let shared = StatusTap()

    /// Counter label (and, for results, `:<status>`) → running total.
    private let totals: [String: RunningTotal]
    private let timers: [String: LatencySamples]

    static let countedLabels = ["sluice_jobs_accepted_total", "sluice_jobs_rejected_total", "sluice_provider_attempts_total"]
    static let resultStatuses = ["succeeded", "failed", "cancelled"]
    static let timedLabels = ["sluice_job_queue_wait_seconds", "sluice_provider_latency_seconds", "sluice_job_latency_seconds"]

    private init() {
        var totals: [String: RunningTotal] = [:]
        for label in Self.countedLabels { totals[label] = RunningTotal() }
        for status in Self.resultStatuses { totals["sluice_results_total:\(status)"] = RunningTotal() }
        self.totals = totals
        var timers: [String: LatencySamples] = [:]
        for label in Self.timedLabels { timers[label] = LatencySamples() }
        self.timers = timers
    }

    /// The running total of a counter (`sluice_results_total:succeeded` for one result status).
    func total(_ key: String) -> Int64 {
        totals[key]?.value.load(ordering: .relaxed) ?? 0
    }

    /// The recent values of a timer, in seconds.
    func recentSeconds(_ label: String) -> [Double] {
        timers[label]?.values() ?? []
    }

    // MARK: - MetricsFactory

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        var key = label
        if label == "sluice_results_total", let status = dimensions.first(where: { $0.0 == "status" })?.1 { key += ":\(status)" }
        guard let total = totals[key] else { return Ignored() }
        return TapCounter(total: total)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler { Ignored() }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        guard let samples = timers[label] else { return Ignored() }
        return TapTimer(samples: samples)
    }

    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}

    // MARK: - Handlers

    final class RunningTotal: Sendable {
        let value = Atomic<Int64>(0)
    }

    private final class TapCounter: CounterHandler, Sendable {
        let total: RunningTotal
        init(total: RunningTotal) { self.total = total }
        func increment(by amount: Int64) { total.value.add(max(0, amount), ordering: .relaxed) }
        func reset() {}
    }

    private final class TapTimer: TimerHandler, Sendable {
        let samples: LatencySamples
        init(samples: LatencySamples) { self.samples = samples }
        func recordNanoseconds(_ duration: Int64) { samples.add(Double(max(0, duration)) / 1e9) }
    }

    private final class Ignored: CounterHandler, RecorderHandler, TimerHandler, Sendable {
        func increment(by: Int64) {}
        func reset() {}
        func record(_ value: Int64) {}
        func record(_ value: Double) {}
        func recordNanoseconds(_ duration: Int64) {}
    }
}

/// The last ``capacity`` values of one timer, for percentiles of recent work.
final class LatencySamples: Sendable {
    static let capacity = 2_048
    private let ring = Mutex<(values: [Double], next: Int)>(([], 0))

    func add(_ seconds: Double) {
        guard seconds.isFinite else { return }
        ring.withLock { ring in
            if ring.values.count < Self.capacity {
                ring.values.append(seconds)
            } else {
                ring.values[ring.next] = seconds
            }
            ring.next = (ring.next + 1) % Self.capacity
        }
    }

    func values() -> [Double] {
        ring.withLock { $0.values }
    }

    /// The `q` quantile (0...1) of `values` by nearest rank; nil when there are none.
    static func quantile(_ q: Double, of sorted: [Double]) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((min(max(q, 0), 1) * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }
}
