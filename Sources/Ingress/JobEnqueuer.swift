import Kafka
import Logging
import SluiceCore
import SluiceKafka

/// Puts accepted jobs on Kafka: the job on its priority topic and `job.accepted` on the audit
/// topic, both keyed by tenant, and returns only when the broker acknowledged both.
public struct JobEnqueuer: Sendable {
    private let producer: KafkaProducer
    private let topics: TopicCatalog
    private let actor: String

    public init(producer: KafkaProducer, topics: TopicCatalog, actor: String = "ingress") {
        self.producer = producer
        self.topics = topics
        self.actor = actor
    }

    /// Sends the job and its `job.accepted`, concurrently, and returns when the broker
    /// acknowledged both.
    ///
    /// - Parameter requestFingerprint: For a job with an `Idempotency-Key`, the fingerprint of
    ///   the request body (``IdempotencyBinding/fingerprint(_:)``); the ledger binds the key to
    ///   the job with it.
    /// - Throws: ``EnqueueError`` when the broker did not take both records in time, saying
    ///   whether the job may have been queued anyway.
    public func enqueue(_ job: JobEnvelope, requestFingerprint: String? = nil) async throws {
        var detail: [String: JSONValue] = ["model": .string(job.model), "priority": .string(job.priority.rawValue)]
        if let metadata = job.metadata { detail["metadata"] = metadata }
        if let batchID = job.batchID { detail["batch_id"] = .string(batchID) }
        if let key = job.idempotencyKey { detail["idempotency_key"] = .string(key) }
        if let requestFingerprint { detail["request_fingerprint"] = .string(requestFingerprint) }
        if let webhook = job.webhook { detail["webhook_url"] = .string(webhook.url) }
        if let deadline = job.deadlineMs { detail["deadline_ms"] = .int(deadline) }
        let accepted = AuditEvent(
            type: .accepted, tenant: job.tenant, jobID: job.id, attempt: job.attempt, atMs: job.createdAtMs,
            actor: actor, detail: .object(detail)
        )
        // Two sends rather than one batch: only per-record outcomes tell "nothing was queued"
        // from "half of it was", and the records go to different topics, so their order is
        // not a contract anyway.
        async let jobFailure = send(
            KafkaProducerMessage(topic: topics.jobs(job.priority), key: job.tenant, schema: JobEnvelope.schema, job: job, value: job))
        async let auditFailure = send(
            KafkaProducerMessage(topic: topics.audit, key: job.tenant, schema: AuditEvent.schema, job: job, value: accepted))
        let failures = await [jobFailure, auditFailure].compactMap { $0 }
        guard failures.isEmpty else {
            throw EnqueueError.classify(failures: failures, delivered: 2 - failures.count)
        }
    }

    /// Sends one record; nil when the broker acknowledged it.
    private func send(_ message: KafkaProducerMessage) async -> KafkaError? {
        do {
            _ = try await producer.send(message)
            return nil
        } catch let error as KafkaError {
            return error
        } catch {
            // `KafkaProducer.send` throws only `KafkaError`; anything else is kept, not guessed away.
            return KafkaError(code: .state, message: "unexpected error from the producer: \(error)", isRetriable: true)
        }
    }
}
