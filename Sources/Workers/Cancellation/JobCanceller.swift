import Kafka
import Logging
import SluiceCore
import SluiceKafka

/// Ends cancelled jobs: the one place where the worker pool and the retry relay ask "was this
/// job cancelled?" and, if so, publish its `cancelled` result and `job.cancelled` event.
///
/// A cancelled job is never called again. A cancellation that arrives while a provider call is
/// in flight lets that call finish: a success stands (the work is done and paid for), anything
/// else ends the job `cancelled` instead of being retried.
struct JobCanceller: Sendable {
    /// What a check came to.
    enum Outcome: Sendable {
        /// The job was cancelled and its result published: move its offset on.
        case finished
        /// Stopped (shutdown) before the result was published: the job is read again.
        case abandoned
    }

    let cancelled: CancelledJobs
    let publisher: JobPublisher
    let topics: TopicCatalog
    let actor: String
    let clock: WallClock
    let logger: Logger

    /// Waits (bounded) until the control topic has been read, so that a worker that just
    /// started does not run a job whose cancellation is already on Kafka.
    func waitUntilReady() async {
        if cancelled.isReady { return }
        if !(await cancelled.waitUntilReady()) {
            logger.warning(
                "the control topic was not read in time; running jobs without knowing every cancellation",
                metadata: ["timeout_ms": "\(cancelled.configuration.catchUpTimeoutMs)"])
        }
    }

    func isCancelled(_ job: JobEnvelope) -> Bool {
        cancelled.contains(job.id)
    }

    /// Ends `job` as cancelled if a cancellation is known; nil when it is not cancelled.
    ///
    /// - Parameters:
    ///   - attempt: the attempt the job is at (its last started one, or the one it would start).
    ///   - startedAtMs: when this worker took the job.
    func cancelIfRequested(_ job: JobEnvelope, attempt: Int, startedAtMs: Int64) async -> Outcome? {
        guard isCancelled(job) else { return nil }
        return await finishCancelled(job, attempt: attempt, startedAtMs: startedAtMs)
    }

    /// Publishes the `cancelled` result and the `job.cancelled` event of `job`.
    func finishCancelled(_ job: JobEnvelope, attempt: Int, startedAtMs: Int64) async -> Outcome {
        let nowMs = clock.nowMs()
        var result = ResultEnvelope(
            jobID: job.id, tenant: job.tenant, attempt: attempt, status: .cancelled, model: job.model,
            error: JobError(type: "cancelled", code: "job_cancelled", message: "The job was cancelled at the client's request."),
            startedAtMs: min(startedAtMs, nowMs), finishedAtMs: nowMs)
        result.replay = job.replay
        var detail: [String: JSONValue] = ["attempts_failed": .int(Int64(job.failures.count))]
        if let last = job.failures.last { detail["last_error"] = .string(Truncation.prefix(last.error.message, maxBytes: 2_048)) }
        let event = AuditEvent(
            type: .cancelled, tenant: job.tenant, jobID: job.id, attempt: attempt, atMs: nowMs, actor: actor,
            detail: .object(detail), replay: job.replay)
        logger.info("job cancelled", metadata: ["job_id": "\(job.id)", "attempt": "\(attempt)"])
        WorkerSpans.cancelled(job, attempt: attempt, startedAtMs: startedAtMs, actor: actor)
        switch await publisher.send([
            KafkaProducerMessage(topic: topics.results, key: job.id, schema: ResultEnvelope.schema, job: job, value: result),
            KafkaProducerMessage(topic: topics.audit, key: job.tenant, schema: AuditEvent.schema, job: job, value: event),
        ]) {
        case .sent:
            return .finished
        case .stopped:
            return .abandoned
        case .rejected(let error):
            // Two small records refused for good: the job must still never run, so its offset
            // moves on; the ledger keeps its last known status.
            logger.critical("Kafka refused a cancelled job's result; the job ends unrecorded", metadata: ["job_id": "\(job.id)", "error": "\(error)"])
            return .finished
        }
    }
}
