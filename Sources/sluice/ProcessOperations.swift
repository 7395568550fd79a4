import Foundation
import Kafka
import Ledger
import Logging
import CoreMetrics
import Metrics
import Prometheus
import SluiceCore
import Synchronization
import Workers

/// What one process tells operators: its readiness checks and its metrics registry.
///
/// The wiring adds a check for each component it builds (the broker for any Kafka client, the
/// ledger file, the worker group membership), and a sampler for values that are read rather
/// than counted (work in flight); `/readyz` and `/metrics` on the HTTP API answer from here.
final class ProcessOperations: Sendable {
    let readiness = ReadinessChecks(cacheTTL: .seconds(1))
    private let samplers = Mutex<[@Sendable () -> Void]>([])
    private let brokerCheckAdded = Mutex(false)
    private let pools = Mutex<[LLMWorkerPool]>([])
    private let consumers = Mutex<[(group: String, consumer: KafkaConsumer)]>([])

    /// Adds a value read at each scrape.
    func addSampler(_ sample: @escaping @Sendable () -> Void) {
        samplers.withLock { $0.append(sample) }
    }

    /// The metrics in Prometheus text format, samplers run first.
    func metricsText() -> [UInt8] {
        for sample in samplers.withLock({ $0 }) { sample() }
        return MetricsBootstrap.registry.emitToBuffer()
    }

    /// `broker`: a metadata request answered within 2 s. Added once per process, however many
    /// Kafka clients it has.
    func addBrokerCheck(_ wiring: Wiring) throws {
        guard brokerCheckAdded.withLock({ added in defer { added = true }; return !added }) else { return }
        let probe = try KafkaBrokerProbe(
            bootstrapServers: wiring.configuration.kafka.bootstrapServers,
            additionalProperties: wiring.configuration.kafka.properties, logger: wiring.logger)
        readiness.add(ReadinessCheck(name: "broker") {
            do {
                try await probe.check(timeoutMs: 2_000)
                return nil
            } catch {
                return "no broker answered a metadata request: \(error)"
            }
        })
    }

    /// `ledger`: the file takes a write transaction (`writable`) or opens with its schema.
    func addLedgerCheck(_ store: LedgerStore, writable: Bool) {
        readiness.add(ReadinessCheck(name: "ledger") {
            do {
                if writable { try await store.checkWritable() } else { try await store.checkReadable() }
                return nil
            } catch {
                return writable ? "the ledger cannot begin a write transaction: \(error)" : "the ledger cannot be read: \(error)"
            }
        })
    }

    /// `<name>`: the consumer has joined its group (with or without partitions), and gauges of
    /// its work in flight and waiting (`sluice_consumer_in_flight{group}`,
    /// `sluice_consumer_buffered{group}`, `sluice_consumer_assigned_partitions{group}`).
    ///
    /// Also `sluice_consumer_lag{group, topic, partition}` for the partitions it owns.
    ///
    /// - Parameter checked: whether `/readyz` waits for it to join (the ledger's consumers
    ///   are covered by the `ledger` check instead).
    func addConsumer(_ consumer: KafkaConsumer, name: String, group: String, checked: Bool = true) {
        if checked {
            readiness.add(ReadinessCheck(name: name) {
                let status = consumer.status
                guard status.joinedGroup || status.assignedPartitions > 0 else {
                    return "the consumer has not joined group \(group) yet"
                }
                return nil
            })
        }
        consumers.withLock { $0.append((group, consumer)) }
        let dimensions = [("group", group)]
        let inFlight = Gauge(label: "sluice_consumer_in_flight", dimensions: dimensions)
        let buffered = Gauge(label: "sluice_consumer_buffered", dimensions: dimensions)
        let assigned = Gauge(label: "sluice_consumer_assigned_partitions", dimensions: dimensions)
        // Lag gauges of partitions this member no longer owns are removed, not left at their
        // last value: their new owner reports them.
        let lagGauges = LagGauges()
        addSampler {
            let status = consumer.status
            inFlight.record(status.outstanding)
            buffered.record(status.buffered)
            assigned.record(status.assignedPartitions)
            let lags = consumer.partitionLags
            lagGauges.gauges.withLock { gauges in
                var current: [String: CoreMetrics.Gauge] = [:]
                for lag in lags {
                    let key = "\(lag.topic)/\(lag.partition)"
                    let gauge = gauges[key] ?? Gauge(
                        label: "sluice_consumer_lag",
                        dimensions: [("group", group), ("topic", lag.topic), ("partition", String(lag.partition))])
                    gauge.record(lag.lag)
                    current[key] = gauge
                }
                for (key, gauge) in gauges where current[key] == nil { gauge.destroy() }
                gauges = current
            }
        }
    }

    /// The worker pool's live figures at each scrape: `sluice_worker_queue_depth` (read and
    /// waiting for a caller), `sluice_worker_calls_in_flight`, and per deployment
    /// `sluice_breaker_state{deployment, provider}` (0 closed, 1 half-open, 2 open) and
    /// `sluice_deployment_calls_in_flight{deployment}`. Deployments come from the configuration.
    func addWorkerPool(_ pool: LLMWorkerPool) {
        pools.withLock { $0.append(pool) }
        let queued = Gauge(label: "sluice_worker_queue_depth")
        let calling = Gauge(label: "sluice_worker_calls_in_flight")
        addSampler {
            let status = pool.status
            queued.record(status.queued)
            calling.record(status.calling)
            for deployment in status.deployments {
                let state = switch deployment.breaker {
                case "open": 2
                case "half_open": 1
                default: 0
                }
                Gauge(label: "sluice_breaker_state", dimensions: [("deployment", deployment.label), ("provider", deployment.provider)])
                    .record(state)
                Gauge(label: "sluice_deployment_calls_in_flight", dimensions: [("deployment", deployment.label)]).record(deployment.inFlight)
            }
        }
    }

    /// The worker pools of this process (one in `serve` and `worker`), for the status page.
    var workerPools: [LLMWorkerPool] { pools.withLock { $0 } }

    /// Summed consumer lag of this process's members of `group`, nil when it has none.
    func lag(group: String) -> Int64? {
        let members = consumers.withLock { $0.filter { $0.group == group } }
        guard !members.isEmpty else { return nil }
        return members.reduce(Int64(0)) { sum, member in
            member.consumer.partitionLags.reduce(sum) { $0.addingReportingOverflow($1.lag).partialValue }
        }
    }
}

/// One consumer's lag gauges by `topic/partition`, shared by its sampler's runs.
private final class LagGauges: Sendable {
    let gauges = Mutex<[String: CoreMetrics.Gauge]>([:])
}

/// Installs the Prometheus backend for swift-metrics, once per process.
enum MetricsBootstrap {
    static let registry = PrometheusCollectorRegistry()
    private static let done = Mutex(false)

    /// Histogram buckets for latencies that reach minutes (provider calls, and jobs that wait in
    /// a queue or for a retry); the library's default stops at 10 s.
    static let providerBuckets: [Duration] = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120].map { .milliseconds(Int64($0 * 1000)) }
    static let jobBuckets: [Duration] = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600].map { .milliseconds(Int64($0 * 1000)) }

    static func once() {
        done.withLock { done in
            guard !done else { return }
            done = true
            var factory = PrometheusMetricsFactory(registry: registry)
            factory.durationHistogramBuckets = [
                "sluice_provider_latency_seconds": providerBuckets, "sluice_job_latency_seconds": jobBuckets,
                "sluice_job_queue_wait_seconds": jobBuckets,
            ]
            // The status page's in-memory tap sees every metric too (see ``StatusTap``).
            MetricsSystem.bootstrap(MultiplexMetricsHandler(factories: [factory, StatusTap.shared]))
        }
    }
}
