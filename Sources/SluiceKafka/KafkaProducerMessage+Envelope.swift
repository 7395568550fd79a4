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

extension KafkaProducerMessage {
    /// A control event on `topic` (`sluice.control`), keyed by its subject so that compaction
    /// keeps the latest fact per subject.
    public init(controlTopic topic: String, event: ControlEvent) {
        var headers = [
            KafkaHeader(key: RecordHeader.schema, value: ControlEvent.schema), KafkaHeader(key: RecordHeader.tenant, value: event.tenant),
        ]
        // Key revocations and tenant changes are about no job.
        if !event.jobID.isEmpty { headers.append(KafkaHeader(key: RecordHeader.jobID, value: event.jobID)) }
        self.init(topic: topic, key: Array(event.key.utf8), value: Wire.encode(event), headers: headers)
    }
}
