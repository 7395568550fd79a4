import Kafka
import SluiceCore

extension KafkaProducerMessage {
    /// A Sluice record about `job`: the envelope as JSON under `key`, with the headers every
    /// record carries (schema, tenant, job id, traceparent).
    public init(topic: String, key: String, schema: String, job: JobEnvelope, value: some JSONRepresentable) {
        self.init(
            topic: topic, key: Array(key.utf8), value: Wire.encode(value),
            headers: RecordHeader.pairs(schema: schema, job: job).map { KafkaHeader(key: $0.0, value: $0.1) }
        )
    }
}
