import Kafka
import Logging
import SluiceCore
import SluiceKafka

/// Sends the worker's records to Kafka and says what became of them.
///
/// A broker outage delays a job and never loses it: retriable errors are retried with backoff
/// for as long as it takes. A record Kafka refuses for good (too large, not authorized) is
/// reported as `rejected` instead, so that the caller can end the job some other way rather
/// than hold its slot, and its partition's commit, forever.
struct JobPublisher: Sendable {
    /// What a send came to.
    enum Outcome: Sendable {
        case sent
        /// The task was cancelled (shutdown) or the producer stopped for good: the job stays
        /// unfinished and is read again.
        case stopped
        /// Kafka will never take these records.
        case rejected(KafkaError)
    }

    let producer: KafkaProducer
    let topics: TopicCatalog
    let logger: Logger
    /// Between tries of a send that failed with a retriable error.
    static let backoff = Backoff(baseMs: 200, capMs: 5_000)

    func send(_ messages: [KafkaProducerMessage]) async -> Outcome {
        var failures = 0
        while !Task.isCancelled {
            do {
                try await producer.send(messages)
                return .sent
            } catch let error as KafkaError where !error.isRetriable {
                // A producer that stopped (fatal error, shutdown) takes nothing more; the process
                // is on its way out and the job must stay uncommitted.
                if error.isFatal || error.code == .destroyed { return .stopped }
                return .rejected(error)
            } catch {
                failures += 1
                let delayMs = Self.backoff.delayMs(retry: failures)
                logger.warning("publish failed; will retry", metadata: ["error": "\(error)", "delay_ms": "\(delayMs)"])
                do {
                    try await Task.sleep(for: .milliseconds(delayMs))
                } catch {
                    return .stopped
                }
            }
        }
        return .stopped
    }

    /// Moves a record that cannot be run to the DLQ with the reason, so that nothing is
    /// silently dropped.
    ///
    /// - Returns: whether the message may be marked done: true once the DLQ has it, and also
    ///   when Kafka refuses even the DLQ record (logged as critical: the offset must move on
    ///   or the partition would stall behind it forever); false when stopped.
    func deadLetter(_ message: KafkaMessage, reason: String) async -> Bool {
        let reason = Truncation.prefix(reason, maxBytes: 2_048)
        logger.error(
            "job record sent to DLQ",
            metadata: [
                "topic": "\(message.topic)", "partition": "\(message.partition)", "offset": "\(message.offset)",
                "reason": "\(reason)",
            ])
        var headers = message.headers
        headers.append(KafkaHeader(key: DeadLetterHeader.reason, value: reason))
        headers.append(KafkaHeader(key: DeadLetterHeader.source, value: "\(message.topic)/\(message.partition)/\(message.offset)"))
        let dead = KafkaProducerMessage(topic: topics.jobsDLQ, key: message.key, value: message.value, headers: headers)
        switch await send([dead]) {
        case .sent:
            WorkerMetrics.deadLettered()
            return true
        case .stopped:
            return false
        case .rejected(let error):
            logger.critical(
                "Kafka refused the DLQ record too; the job record is dropped so that its partition can go on",
                metadata: [
                    "topic": "\(message.topic)", "partition": "\(message.partition)", "offset": "\(message.offset)",
                    "reason": "\(reason)", "error": "\(error)",
                ])
            return true
        }
    }

    /// The DLQ record of a job that used up its attempts (or its deadline): the job envelope,
    /// carrying the error of every failed attempt (``JobEnvelope/failures``), with the reason
    /// in `sluice-dlq-reason` and where it came from in `sluice-dlq-source`. Sent together with
    /// the job's failed result, so the ledger shows `failed` and `sluice dlq replay` can put
    /// it back.
    func deadLetterRecord(_ job: JobEnvelope, reason: String, source: String) -> KafkaProducerMessage {
        // Counted when built: every caller sends it in its next batch.
        WorkerMetrics.deadLettered()
        var record = KafkaProducerMessage(topic: topics.jobsDLQ, key: job.tenant, schema: JobEnvelope.schema, job: job, value: job)
        record.headers.append(KafkaHeader(key: DeadLetterHeader.reason, value: Truncation.prefix(reason, maxBytes: 2_048)))
        record.headers.append(KafkaHeader(key: DeadLetterHeader.source, value: source))
        return record
    }
}

/// The headers a DLQ record carries besides the usual ones.
public enum DeadLetterHeader {
    /// Why the record is there (the last error, or why it could not be run at all).
    public static let reason = "sluice-dlq-reason"
    /// Where it came from: `topic/partition/offset` of the record, or `worker:<instance>`.
    public static let source = "sluice-dlq-source"
}
