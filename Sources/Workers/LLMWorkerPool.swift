import Kafka
import Logging
import ServiceLifecycle
import SluiceCore
import SluiceHTTP
import SluiceKafka

/// Runs jobs from the jobs topics against the providers and publishes their outcome.
///
/// Many jobs are in flight at once (up to the consumer's `maxOutstanding`, which pauses the
/// partitions at its bound); `concurrency` of them call providers while the rest wait in a
/// weighted queue, so p0 work overtakes a bulk backlog. A message is marked done — and so its
/// offset may be committed — only after its result and audit events were acknowledged by Kafka,
/// or after it was handed on to a retry topic or the DLQ.
///
/// Jobs never wait long while holding their partition: a retry due within
/// `localRetryMaxMs` waits here; a later one is re-produced to `sluice.jobs.retry.<delay>` with
/// its next attempt number and not-before time, and its offset moves on (``RetryRelay`` puts it
/// back on its jobs topic when due).
public struct LLMWorkerPool: Service {
    /// The largest result record: the topics' and the producer's `max.message.bytes` (4 MiB,
    /// topics/*.yaml and the producer wiring) less room for headers and batch overhead.
    public static let maxResultBytes = 4 * 1024 * 1024 - 64 * 1024

    private let configuration: WorkerConfiguration
    private let consumer: KafkaConsumer
    private let publisher: JobPublisher
    private let topics: TopicCatalog
    private let router: ProviderRouter
    private let http: CurlHTTPClient
    private let instance: String
    private let clock: WallClock
    private let backoff: Backoff
    private let logger: Logger
    /// Ends jobs whose cancellation arrived on `sluice.control`; nil: cancellations are not read.
    private let canceller: JobCanceller?

    /// - Parameters:
    ///   - consumer: subscribed to the jobs topics (group `sluice-workers`); the pool runs it.
    ///   - instance: names this process in audit events (`worker:<host>:<pid>`).
    ///   - cancellations: filled by a ``ControlListener``; checked when a job starts and before
    ///     each retry.
    public init(
        configuration: WorkerConfiguration, consumer: KafkaConsumer, producer: KafkaProducer, topics: TopicCatalog,
        router: ProviderRouter, http: CurlHTTPClient, instance: String, clock: WallClock = .system, logger: Logger,
        cancellations: CancelledJobs? = nil
    ) {
        self.configuration = configuration
        self.consumer = consumer
        self.publisher = JobPublisher(producer: producer, topics: topics, logger: logger)
        self.topics = topics
        self.router = router
        self.http = http
        self.instance = instance
        self.clock = clock
        self.backoff = Backoff(baseMs: configuration.retryBaseDelayMs, capMs: configuration.retryMaxDelayMs)
        self.logger = logger
        let publisher = self.publisher
        self.canceller = cancellations.map {
            JobCanceller(cancelled: $0, publisher: publisher, topics: topics, actor: instance, clock: clock, logger: logger)
        }
    }

    // MARK: - Service

    /// Runs the consumer too. At graceful shutdown no queued job starts (they are released and
    /// read again later), running provider calls get `shutdownGraceMs` to finish and are then
    /// cancelled and left uncommitted; the consumer commits and leaves once every job it handed
    /// out is finished or released.
    public func run() async throws {
        let queue = WeightedJobQueue<KafkaMessage>(weights: configuration.weights)
        let (shutdown, shutdownStarted) = AsyncStream.makeStream(of: Void.self)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await consumer.run()
            }
            group.addTask {
                for await message in consumer.messages {
                    let priority = topics.priority(ofTopic: message.topic) ?? .p1
                    if !queue.push(message, priority: priority) { consumer.release(message) }
                }
                // The consumer stopped handing out (shutdown or a fatal error): nothing queued starts.
                for message in queue.close() { consumer.release(message) }
            }
            group.addTask {
                await withGracefulShutdownHandler {
                    await runCalls(from: queue, shutdown: shutdown)
                } onGracefulShutdown: {
                    for message in queue.close() { consumer.release(message) }
                    shutdownStarted.finish()
                }
            }
            try await group.waitForAll()
        }
        logger.info("worker pool stopped")
    }

    /// `concurrency` callers take jobs from the queue until it closes; once shutdown begins, a
    /// watchdog cancels those still running after the grace period.
    private func runCalls(from queue: WeightedJobQueue<KafkaMessage>, shutdown: AsyncStream<Void>) async {
        enum Exit { case caller, graceOver }
        let callers = max(1, configuration.concurrency)
        await withTaskGroup(of: Exit.self) { group in
            for _ in 0..<callers {
                group.addTask {
                    while let message = await queue.next() {
                        await start(message)
                    }
                    return .caller
                }
            }
            group.addTask {
                for await _ in shutdown {}
                try? await Task.sleep(for: .milliseconds(configuration.shutdownGraceMs))
                return .graceOver
            }
            var running = callers
            while let exit = await group.next() {
                switch exit {
                case .caller:
                    running -= 1
                    if running == 0 { group.cancelAll() }  // ends the watchdog
                case .graceOver:
                    if running > 0 {
                        logger.warning(
                            "shutdown grace is over; cancelling running provider calls (their jobs will run again)",
                            metadata: ["grace_ms": "\(configuration.shutdownGraceMs)"])
                        group.cancelAll()
                    }
                }
            }
        }
    }

    // MARK: - One job

    /// What became of a job this process took.
    private enum Disposition {
        /// Its outcome, retry or dead letter is on Kafka: commit its offset.
        case finished
        /// Given up unfinished (shutdown): it is read again.
        case abandoned
    }

    private func start(_ message: KafkaMessage) async {
        // Its partition was revoked while it waited: the partition's new owner runs it.
        guard consumer.isCurrent(message) else {
            consumer.release(message)
            return
        }
        let disposition: Disposition
        do {
            let job = try Wire.decode(JobEnvelope.self, from: message.value)
            disposition = await run(job)
        } catch {
            disposition = await publisher.deadLetter(message, reason: "undecodable job envelope: \(error)") ? .finished : .abandoned
        }
        switch disposition {
        case .finished: consumer.markDone(message)
        case .abandoned: consumer.release(message)
        }
    }

    private func run(_ job: JobEnvelope) async -> Disposition {
        var job = job  // gathers the errors of failed attempts (`failures`) for the retry topic and the DLQ
        var attempt = job.attempt
        let route = router.route(for: job.model)
        let startedAt = clock.nowMs()
        while true {
            if let cancelled = await cancelIfRequested(job, attempt: attempt, startedAt: startedAt) { return cancelled }
            // The start is published while the provider works: it costs a broker round trip,
            // and the job is only marked done after both anyway.
            let attemptJob = job  // `job` changes below; the concurrent publish reads a copy
            async let started = publisher.send([audit(.started, attemptJob, attempt: attempt, detail: ["route": .string(route?.label ?? "none")])])
            var outcome = await call(attemptJob, route: route)
            let startPublished = await started
            // Cancelled at the end of the shutdown grace: publish nothing more; the job runs again.
            if Task.isCancelled { return .abandoned }
            switch startPublished {
            case .sent: break
            case .stopped: return .abandoned
            case .rejected(let error):
                logger.error("Kafka refused a job.started event; going on", metadata: ["job_id": "\(job.id)", "error": "\(error)"])
            }
            if case .retriable(let error, _) = outcome {
                job.recordFailure(AttemptFailure(attempt: attempt, atMs: clock.nowMs(), error: error))
            }
            // Cancelled while the call ran: a success stands, anything else is not retried.
            if case .success = outcome {} else if let cancelled = await cancelIfRequested(job, attempt: attempt, startedAt: startedAt) {
                return cancelled
            }

            guard case .retriable(let error, let retryAfterMs) = outcome, attempt < configuration.maxAttempts else {
                return await finish(job, attempt: attempt, outcome: outcome, route: route, startedAt: startedAt)
            }
            let delayMs = retryDelayMs(retry: attempt, retryAfterMs: retryAfterMs)
            let notBefore = clock.nowMs().addingReportingOverflow(Int64(delayMs)).partialValue
            if let deadline = job.deadlineMs, notBefore > deadline {
                outcome = .permanent(JobError(
                    type: "deadline_exceeded", code: "deadline_exceeded",
                    message: "The job's deadline comes before its next try could (last error: \(error.message))",
                    providerStatus: error.providerStatus))
                return await finish(job, attempt: attempt, outcome: outcome, route: route, startedAt: startedAt)
            }
            let local = delayMs <= configuration.localRetryMaxMs
            logger.info(
                "retrying job",
                metadata: [
                    "job_id": "\(job.id)", "attempt": "\(attempt)", "delay_ms": "\(delayMs)", "error": "\(error.message)",
                    "via": "\(local ? "local wait" : "retry topic")",
                ])
            var detail: [String: JSONValue] = [
                "error": .string(error.message), "code": .string(error.code ?? ""), "delay_ms": .int(Int64(delayMs)),
                "not_before_ms": .int(notBefore),
            ]
            if let status = error.providerStatus { detail["provider_status"] = .int(Int64(status)) }
            let retrying = audit(.retrying, job, attempt: attempt, detail: detail)

            guard local else {
                var next = job
                next.attempt = attempt + 1
                next.notBeforeMs = notBefore
                let record = KafkaProducerMessage(
                    topic: topics.jobRetry(delayMs: delayMs), key: job.tenant, schema: JobEnvelope.schema, job: next, value: next)
                switch await publisher.send([retrying, record]) {
                case .sent: return .finished
                case .stopped: return .abandoned
                case .rejected(let kafkaError):
                    let failure = JobError(
                        type: "internal_error", code: "retry_not_scheduled",
                        message: Truncation.prefix("Kafka refused the job's retry (\(kafkaError)); last error: \(error.message)", maxBytes: 2_048))
                    return await finish(job, attempt: attempt, outcome: .permanent(failure), route: route, startedAt: startedAt)
                }
            }
            switch await publisher.send([retrying]) {
            case .sent, .rejected: break
            case .stopped: return .abandoned
            }
            do {
                try await Task.sleep(for: .milliseconds(delayMs))
            } catch {
                return .abandoned
            }
            attempt += 1
        }
    }

    /// Ends the job as cancelled when a cancellation of it is known (nil otherwise).
    private func cancelIfRequested(_ job: JobEnvelope, attempt: Int, startedAt: Int64) async -> Disposition? {
        guard let canceller else { return nil }
        await canceller.waitUntilReady()
        switch await canceller.cancelIfRequested(job, attempt: attempt, startedAtMs: startedAt) {
        case nil: return nil
        case .finished: return .finished
        case .abandoned: return .abandoned
        }
    }

    /// The wait before retry number `retry`: the provider's `Retry-After` when it sent one,
    /// else the backoff; never longer than `retryMaxDelayMs`.
    private func retryDelayMs(retry: Int, retryAfterMs: Int?) -> Int {
        guard let retryAfterMs else { return backoff.delayMs(retry: retry) }
        return min(max(0, retryAfterMs), configuration.retryMaxDelayMs)
    }

    private func call(_ job: JobEnvelope, route: ProviderDeployment?) async -> ProviderOutcome {
        if let deadline = job.deadlineMs, clock.nowMs() > deadline {
            return .permanent(JobError(type: "deadline_exceeded", code: "deadline_exceeded", message: "The job's deadline passed before it could run."))
        }
        guard let route else {
            return .permanent(JobError(type: "invalid_request_error", code: "model_not_found", message: "No route for model '\(job.model)' on this worker."))
        }
        // The router admits only kinds that have an adapter, so this fails only on a bug.
        guard let adapter = ProviderAdapters.adapter(for: route.kind) else {
            return .permanent(JobError(type: "internal_error", code: "no_adapter", message: "No adapter speaks provider kind '\(route.kind)'."))
        }
        let request: HTTPClientRequest
        do {
            request = try adapter.request(for: job, deployment: route, timeoutMs: configuration.requestTimeoutMs)
        } catch {
            return .permanent(error)
        }
        let callStarted = ContinuousClock.now
        let outcome: ProviderOutcome
        do {
            outcome = adapter.interpret(try await http.execute(request))
        } catch {
            outcome = adapter.interpret(error)
        }
        WorkerMetrics.providerCall(route, outcome: outcome, elapsed: ContinuousClock.now - callStarted)
        return outcome
    }

    // MARK: - Outcome

    /// Publishes the job's result and its final audit event.
    ///
    /// A result larger than a record may hold is cut to fit (and says so). If Kafka still
    /// refuses it, a small failed result naming the reason takes its place; if even that is
    /// refused, the job record goes to the DLQ. The offset moves on in every case but shutdown.
    private func finish(_ job: JobEnvelope, attempt: Int, outcome: ProviderOutcome, route: ProviderDeployment?, startedAt: Int64) async -> Disposition {
        let finishedAt = clock.nowMs()
        var result: ResultEnvelope
        switch outcome {
        case .success(let response, let usage):
            let cost = route?.cost(of: usage)
            result = ResultEnvelope(
                jobID: job.id, tenant: job.tenant, attempt: attempt, status: .succeeded, model: job.model, route: route?.label,
                response: response, usage: usage, cost: cost, currency: cost == nil ? nil : route?.currency,
                startedAtMs: startedAt, finishedAtMs: finishedAt
            )
        case .retriable(let error, _), .permanent(let error):
            result = ResultEnvelope(
                jobID: job.id, tenant: job.tenant, attempt: attempt, status: .failed, model: job.model, route: route?.label,
                error: error, startedAtMs: startedAt, finishedAtMs: finishedAt
            )
        }
        result.replay = job.replay
        var record = KafkaProducerMessage(topic: topics.results, key: job.id, schema: ResultEnvelope.schema, job: job, value: result)
        if record.value.count > Self.maxResultBytes {
            logger.warning("result too large for a record; truncating it", metadata: ["job_id": "\(job.id)", "bytes": "\(record.value.count)"])
            result = result.fitting(maxBytes: Self.maxResultBytes, size: record.value.count)
            record = KafkaProducerMessage(topic: topics.results, key: job.id, schema: ResultEnvelope.schema, job: job, value: result)
        }
        var records = [record, finalAudit(result, job, startedAt: startedAt)]
        if let reason = Self.deadLetterReason(outcome) {
            var dead = job
            dead.attempt = attempt
            dead.notBeforeMs = nil
            records.append(publisher.deadLetterRecord(dead, reason: reason, source: instance))
        }
        switch await publisher.send(records) {
        case .sent:
            WorkerMetrics.resultPublished(result, job: job)
            return .finished
        case .stopped:
            return .abandoned
        case .rejected(let error):
            logger.error("Kafka refused the job's result; recording a failure instead", metadata: ["job_id": "\(job.id)", "error": "\(error)"])
            var failed = result
            failed.status = .failed
            failed.response = nil
            failed.usage = nil
            failed.cost = nil
            failed.currency = nil
            failed.error = JobError(
                type: "internal_error", code: "result_not_publishable",
                message: Truncation.prefix("Kafka refused the job's result: \(error)", maxBytes: 2_048))
            let fallback = KafkaProducerMessage(topic: topics.results, key: job.id, schema: ResultEnvelope.schema, job: job, value: failed)
            switch await publisher.send([fallback, finalAudit(failed, job, startedAt: startedAt)]) {
            case .sent: return .finished
            case .stopped: return .abandoned
            case .rejected(let error):
                let message = KafkaProducerMessage(topic: topics.jobs(job.priority), key: job.tenant, schema: JobEnvelope.schema, job: job, value: job)
                let dead = KafkaMessage(topic: message.topic, partition: -1, offset: -1, key: message.key, value: message.value, headers: message.headers)
                return await publisher.deadLetter(dead, reason: "no result could be published: \(error)") ? .finished : .abandoned
            }
        }
    }

    /// Why a failed job also goes to the DLQ, or nil when it does not: a job that could succeed
    /// later (attempts used up, deadline passed, retry not schedulable) is kept for
    /// `sluice dlq replay`; one the provider refused for its content would fail again.
    private static func deadLetterReason(_ outcome: ProviderOutcome) -> String? {
        switch outcome {
        case .success: nil
        case .retriable(let error, _): "attempts used up; last error: \(error.message)"
        case .permanent(let error) where error.code == "deadline_exceeded" || error.code == "retry_not_scheduled": error.message
        case .permanent: nil
        }
    }

    private func finalAudit(_ result: ResultEnvelope, _ job: JobEnvelope, startedAt: Int64) -> KafkaProducerMessage {
        var detail: [String: JSONValue] = [
            "route": .string(result.route ?? "none"),
            "duration_ms": .int(result.finishedAtMs.subtractingReportingOverflow(startedAt).partialValue),
        ]
        if let error = result.error {
            detail["error"] = .string(Truncation.prefix(error.message, maxBytes: 2_048))
            if let code = error.code { detail["code"] = .string(code) }
        }
        if let usage = result.usage { detail["total_tokens"] = .int(Int64(usage.totalTokens)) }
        return audit(result.status == .succeeded ? .succeeded : .failed, job, attempt: result.attempt, detail: detail)
    }

    /// The audit record of one state change of `job`, keyed by tenant like every audit event.
    /// Its id is derived from job, type and attempt, so a redelivered job repeats it exactly.
    private func audit(_ type: AuditEventType, _ job: JobEnvelope, attempt: Int, detail: [String: JSONValue]) -> KafkaProducerMessage {
        let event = AuditEvent(
            type: type, tenant: job.tenant, jobID: job.id, attempt: attempt, atMs: clock.nowMs(), actor: instance, detail: .object(detail),
            replay: job.replay)
        return KafkaProducerMessage(topic: topics.audit, key: job.tenant, schema: AuditEvent.schema, job: job, value: event)
    }
}
