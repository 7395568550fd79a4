import Foundation
import Kafka
import Ledger
import Logging
import Metrics
import Prometheus
import SluiceCore
import Synchronization

/// What one process tells operators: its readiness checks and its metrics registry.
///
/// The wiring adds a check for each component it builds (the broker for any Kafka client, the
/// ledger file, the worker group membership), and a sampler for values that are read rather
/// than counted (work in flight); `/readyz` and `/metrics` on the HTTP API answer from here.
final class ProcessOperations: Sendable {
    let readiness = ReadinessChecks(cacheTTL: .seconds(1))
    private let samplers = Mutex<[@Sendable () -> Void]>([])
    private let brokerCheckAdded = Mutex(false)

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
    func addConsumer(_ consumer: KafkaConsumer, name: String, group: String) {
        readiness.add(ReadinessCheck(name: name) {
            let status = consumer.status
            guard status.joinedGroup || status.assignedPartitions > 0 else {
                return "the consumer has not joined group \(group) yet"
            }
            return nil
        })
        let dimensions = [("group", group)]
        let inFlight = Gauge(label: "sluice_consumer_in_flight", dimensions: dimensions)
        let buffered = Gauge(label: "sluice_consumer_buffered", dimensions: dimensions)
        let assigned = Gauge(label: "sluice_consumer_assigned_partitions", dimensions: dimensions)
        addSampler {
            let status = consumer.status
            inFlight.record(status.outstanding)
            buffered.record(status.buffered)
            assigned.record(status.assignedPartitions)
        }
    }
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
            ]
            MetricsSystem.bootstrap(factory)
        }
    }
}
