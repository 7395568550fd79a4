import Kafka
import SluiceCore
import SluiceKafka

extension JobEnqueuer {
    /// Puts an already accepted job back on its priority topic, unchanged (same id, run and
    /// creation time), without a second `job.accepted`: the ledger has the first one.
    ///
    /// - Throws: `KafkaError` when the broker did not acknowledge it.
    public func requeue(_ job: JobEnvelope) async throws {
        _ = try await producer.send(
            KafkaProducerMessage(topic: topics.jobs(job.priority), key: job.tenant, schema: JobEnvelope.schema, job: job, value: job))
    }
}
