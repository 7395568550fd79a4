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
    /// - Parameter attempts: sends tried before giving up (at least 1), each bounded by the
    ///   producer's message timeout. A repeated event does no harm: applying it twice is
    ///   applying it once.
    /// - Throws: `KafkaError` when the broker did not take the record in any attempt.
    public func announce(_ event: ControlEvent, attempts: Int = 1) async throws {
        let record = KafkaProducerMessage(controlTopic: topics.control, event: event)
        var attempt = 1
        while true {
            do {
                try await producer.send([record])
                return
            } catch where attempt < attempts {
                attempt += 1
            }
        }
    }
}
