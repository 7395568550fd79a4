import Kafka
import SluiceCore
import SluiceKafka

extension JobEnqueuer {
    /// Announces a key revocation or expiry, or a tenant change, to every ingress: one control
    /// event on `sluice.control`, keyed by its subject; returns when the broker acknowledged it.
    ///
    /// Announce after the change is in the ledger: an ingress that gets the event re-reads the
    /// tables, and one that misses it sees the change at its next periodic re-read.
    ///
    /// - Throws: `KafkaError` when the broker did not take the record in time.
    public func announce(_ event: ControlEvent) async throws {
        try await producer.send([KafkaProducerMessage(controlTopic: topics.control, event: event)])
    }
}
