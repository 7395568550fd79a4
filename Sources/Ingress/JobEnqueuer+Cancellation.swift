import Kafka
import SluiceCore
import SluiceKafka

extension JobEnqueuer {
    /// Asks every worker to cancel a job: a `job.cancel` control event on `sluice.control`
    /// (key `job:<id>`, compacted, read in full by every worker process) and a
    /// `job.cancel_requested` audit event, in one batch; returns when the broker acknowledged
    /// both.
    ///
    /// - Parameter attempt: the attempts the ledger has seen start (at least 1), which numbers
    ///   the audit event: a repeated request for the same state of the job is the same event.
    /// - Throws: ``EnqueueError`` when the broker did not take both records in time.
    public func requestCancellation(jobID: String, tenant: String, attempt: Int, nowMs: Int64) async throws {
        let event = ControlEvent(kind: .jobCancel, jobID: jobID, tenant: tenant, requestedAtMs: nowMs, actor: actor)
        let audit = AuditEvent(
            type: .cancelRequested, tenant: tenant, jobID: jobID, attempt: min(max(1, attempt), Wire.attemptRange.upperBound),
            atMs: nowMs, actor: actor, detail: ["requested_at_ms": .int(nowMs)])
        var auditRecord = KafkaProducerMessage(topic: topics.audit, key: Array(tenant.utf8), value: Wire.encode(audit))
        auditRecord.headers = [
            KafkaHeader(key: RecordHeader.schema, value: AuditEvent.schema), KafkaHeader(key: RecordHeader.tenant, value: tenant),
            KafkaHeader(key: RecordHeader.jobID, value: jobID),
        ]
        let outcome = await producer.sendReportingEach([KafkaProducerMessage(controlTopic: topics.control, event: event), auditRecord])
        guard outcome.failures.isEmpty else {
            throw EnqueueError.classify(failures: outcome.failures, delivered: outcome.delivered)
        }
    }
}
