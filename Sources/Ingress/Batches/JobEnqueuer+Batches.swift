import Kafka
import SluiceCore
import SluiceKafka

extension JobEnqueuer {
    /// Sends many jobs, each with its `job.accepted` (carrying `batch_id` and `custom_id`), in
    /// one batch of records, and returns when the broker acknowledged all of them.
    ///
    /// - Throws: ``EnqueueError`` when the broker did not take every record in time; the jobs
    ///   that were taken stay queued (a repeated call with the same job ids is harmless: the
    ///   ledger keys everything by job id).
    ///
    /// - Parameter alreadyQueued: jobs whose record is on the job topic already (a resumed
    ///   ingest found them there): only their `job.accepted` is sent again, which the ledger
    ///   ignores when it has it (its id is derived from the job id).
    public func enqueue(batch jobs: [(job: JobEnvelope, customID: String)], alreadyQueued: Set<String> = []) async throws {
        var records: [KafkaProducerMessage] = []
        records.reserveCapacity(jobs.count * 2)
        for (job, customID) in jobs {
            var detail: [String: JSONValue] = ["model": .string(job.model), "priority": .string(job.priority.rawValue)]
            if let metadata = job.metadata { detail["metadata"] = metadata }
            if let batchID = job.batchID { detail["batch_id"] = .string(batchID) }
            detail["custom_id"] = .string(customID)
            if let webhook = job.webhook { detail["webhook_url"] = .string(webhook.url) }
            if let deadline = job.deadlineMs { detail["deadline_ms"] = .int(deadline) }
            let accepted = AuditEvent(
                type: .accepted, tenant: job.tenant, jobID: job.id, attempt: job.attempt, atMs: job.createdAtMs, actor: actor,
                detail: .object(detail))
            if !alreadyQueued.contains(job.id) {
                records.append(KafkaProducerMessage(topic: topics.jobs(job.priority), key: job.tenant, schema: JobEnvelope.schema, job: job, value: job))
            }
            records.append(KafkaProducerMessage(topic: topics.audit, key: job.tenant, schema: AuditEvent.schema, job: job, value: accepted))
        }
        let outcome = await producer.sendReportingEach(records)
        guard outcome.failures.isEmpty else {
            throw EnqueueError.classify(failures: outcome.failures, delivered: outcome.delivered)
        }
    }
}
