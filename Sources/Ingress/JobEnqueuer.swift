import Kafka
import Logging
import SluiceCore
import SluiceKafka

/// Puts accepted jobs on Kafka: the job on its priority topic and `job.accepted` on the audit
/// topic, both keyed by tenant, and returns only when the broker acknowledged both.
public struct JobEnqueuer: Sendable {
    let producer: KafkaProducer
    let topics: TopicCatalog
    let actor: String

    public init(producer: KafkaProducer, topics: TopicCatalog, actor: String = "ingress") {
        self.producer = producer
        self.topics = topics
        self.actor = actor
    }

    /// Sends the job and its `job.accepted` in one batch, and returns when the broker
    /// acknowledged both.
    ///
    /// - Parameter requestFingerprint: For a job with an `Idempotency-Key`, the fingerprint of
    ///   the request body (``IdempotencyBinding/fingerprint(_:)``); the ledger binds the key to
    ///   the job with it.
    /// - Parameters:
    ///   - partitionKey: the job record's Kafka key: the tenant (default), or one of its
    ///     sub-keys (``TenantID/partitionKey(tenant:subKeys:pick:)``). The audit event stays keyed
    ///     by tenant, which keeps each tenant's audit chain on one partition.
    ///   - auditDetail: More fields of `job.accepted` (redaction counts and flags).
    /// - Throws: ``EnqueueError`` when the broker did not take both records in time, saying
    ///   whether the job may have been queued anyway.
    public func enqueue(
        _ job: JobEnvelope, requestFingerprint: String? = nil, partitionKey: String? = nil, auditDetail: [String: JSONValue] = [:]
    ) async throws {
        var detail: [String: JSONValue] = auditDetail
        detail["model"] = .string(job.model)
        detail["priority"] = .string(job.priority.rawValue)
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
        // One batch (one delivery wait), with each record's outcome: only per-record outcomes
        // tell "nothing was queued" from "half of it was".
        let outcome = await producer.sendReportingEach([
            KafkaProducerMessage(
                topic: topics.jobs(job.priority), key: partitionKey ?? job.tenant, schema: JobEnvelope.schema, job: job, value: job),
            KafkaProducerMessage(topic: topics.audit, key: job.tenant, schema: AuditEvent.schema, job: job, value: accepted),
        ])
        guard outcome.failures.isEmpty else {
            throw EnqueueError.classify(failures: outcome.failures, delivered: outcome.delivered)
        }
    }
}
