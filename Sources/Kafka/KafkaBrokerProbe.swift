internal import CRdKafka
import Logging

/// Asks the cluster for metadata, to tell whether a broker answers (`/readyz`).
///
/// One long-lived librdkafka instance keeps its connection, so a probe is one small request on
/// an open socket rather than a new client, connection and thread per probe; its own instance
/// (not the producer's) because the producer may replace its instance at any time.
public final class KafkaBrokerProbe: Sendable {
    private let client: RDKafkaClient

    /// Creates the instance (no network traffic until the first check).
    ///
    /// - Throws: `KafkaError` (`invalidArgument`) when librdkafka rejects a property.
    public init(bootstrapServers: String, additionalProperties: [String: String] = [:], logger: Logger) throws {
        var properties = [("bootstrap.servers", bootstrapServers)]
        properties += additionalProperties.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        client = try RDKafkaClient.make(kind: .producer, properties: properties, callbacks: RDKafkaCallbacks(logger: logger))
    }

    deinit {
        let client = self.client
        DedicatedThread.start(name: "sluice-kafka-probe-release") { client.destroy() }
    }

    /// Returns when a broker answered a metadata request; throws when none did within
    /// `timeoutMs`.
    ///
    /// - Parameter timeoutMs: clamped to 1 ms … 60 s.
    /// - Throws: `KafkaError` (typically `transport`, `allBrokersDown` or `timedOut`).
    public func check(timeoutMs: Int) async throws {
        let timeout = Int32(min(max(timeoutMs, 1), 60_000))
        let client = self.client
        let result = await DedicatedThread.run(name: "sluice-kafka-probe") { () -> KafkaError? in
            let rk = client.handle.pointer
            // Serves the instance's queued error events, which nothing else polls.
            rd_kafka_poll(rk, 0)
            var metadata: UnsafePointer<rd_kafka_metadata>?
            let err = rd_kafka_metadata(rk, 0, nil, &metadata, timeout)
            if let metadata { rd_kafka_metadata_destroy(metadata) }
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { return KafkaError(err, context: "metadata request") }
            return nil
        }
        if let result { throw result }
    }
}
