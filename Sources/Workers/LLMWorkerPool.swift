import Foundation
import Kafka
import Logging
import ServiceLifecycle
import SluiceCore

/// Runs jobs from the jobs topics against the providers and publishes their outcome.
///
/// Many jobs are in flight at once (up to the consumer's `maxOutstanding`, which pauses the
/// partitions at its bound); `concurrency` of them call providers while the rest wait in a
/// weighted queue, so p0 work overtakes a bulk backlog. A message is marked done — and so its
/// offset may be committed — only after its result and audit events were acknowledged by Kafka.
public struct LLMWorkerPool: Service {
    private let configuration: WorkerConfiguration
    private let consumer: KafkaConsumer
    private let producer: KafkaProducer
    private let topics: TopicCatalog
    private let router: ProviderRouter
    private let http: CurlHTTPClient
    private let adapter: OpenAIChatAdapter
    private let instance: String
    private let logger: Logger

    /// - Parameters:
    ///   - consumer: subscribed to the jobs topics (group `sluice-workers`); the pool runs it.
    ///   - instance: names this process in audit events (`worker:<host>:<pid>`).
    public init(
        configuration: WorkerConfiguration, consumer: KafkaConsumer, producer: KafkaProducer, topics: TopicCatalog,
        router: ProviderRouter, http: CurlHTTPClient, instance: String, logger: Logger
    ) {
        self.configuration = configuration
        self.consumer = consumer
        self.producer = producer
        self.topics = topics
        self.router = router
        self.http = http
        self.adapter = OpenAIChatAdapter(timeoutMs: configuration.requestTimeoutMs)
        self.instance = instance
        self.logger = logger
    }

    /// Runs the consumer too: its graceful shutdown (inherited from this task) ends the message
    /// stream, the queue drains, and every job taken is finished before this returns.
    public func run() async throws {
        let queue = WeightedJobQueue<KafkaMessage>(weights: configuration.weights)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await consumer.run()
            }
            group.addTask {
                for await message in consumer.messages {
                    let priority = topics.priority(ofTopic: message.topic) ?? .p1
                    queue.push(message, priority: priority)
                }
                queue.finish()
            }
            for _ in 0..<max(1, configuration.concurrency) {
                group.addTask {
                    while let message = await queue.next() {
                        await process(message)
                    }
                }
            }
            try await group.waitForAll()
        }
        logger.info("worker pool stopped")
    }

    // MARK: - One job

    private func process(_ message: KafkaMessage) async {
        let job: JobEnvelope
        do {
            job = try Wire.decode(JobEnvelope.self, from: message.value)
        } catch {
            await deadLetter(message, reason: "undecodable job envelope: \(error)")
            return
        }

        var attempt = job.attempt
        var outcome: ProviderOutcome
        let startedAt = Wire.nowMs()
        let route = router.route(for: job.model)
        while true {
            // The start is published while the provider works: it costs a broker round trip,
            // and the job is only marked done after both anyway.
            async let started = publish([audit(.started, job, attempt: attempt, detail: ["route": .string(route?.label ?? "none")])])
            outcome = await call(job, route: route)
            guard await started else { return }
            guard case .retriable(let error, let retryAfterMs) = outcome, attempt < job.attempt - 1 + configuration.maxAttempts else { break }
            let delayMs = retryAfterMs ?? min(60_000, configuration.retryBaseDelayMs << min(attempt - job.attempt, 16))
            logger.info("retrying job", metadata: ["job_id": "\(job.id)", "attempt": "\(attempt)", "delay_ms": "\(delayMs)", "error": "\(error.message)"])
            let detail: [String: JSONValue] = ["error": .string(error.message), "code": .string(error.code ?? ""), "delay_ms": .int(Int64(delayMs))]
            guard await publish([audit(.retrying, job, attempt: attempt, detail: detail)]) else { return }
            do {
                try await Task.sleep(for: .milliseconds(delayMs))
            } catch {
                return  // cancelled: not marked done, so the job is redelivered
            }
            attempt += 1
        }

        let finishedAt = Wire.nowMs()
        let result: ResultEnvelope
        switch outcome {
        case .success(let response, let usage):
            result = ResultEnvelope(
                jobID: job.id, tenant: job.tenant, attempt: attempt, status: .succeeded, model: job.model, route: route?.label,
                response: response, usage: usage, startedAtMs: startedAt, finishedAtMs: finishedAt
            )
        case .retriable(let error, _), .permanent(let error):
            result = ResultEnvelope(
                jobID: job.id, tenant: job.tenant, attempt: attempt, status: .failed, model: job.model, route: route?.label,
                error: error, startedAtMs: startedAt, finishedAtMs: finishedAt
            )
        }
        var detail: [String: JSONValue] = ["route": .string(route?.label ?? "none"), "duration_ms": .int(finishedAt - startedAt)]
        if let error = result.error { detail["error"] = .string(error.message) }
        if let usage = result.usage { detail["total_tokens"] = .int(Int64(usage.totalTokens)) }
        let final = audit(result.status == .succeeded ? .succeeded : .failed, job, attempt: attempt, detail: detail)
        let resultRecord = KafkaProducerMessage(topic: topics.results, key: job.id, schema: ResultEnvelope.schema, job: job, value: result)
        guard await publish([resultRecord, final]) else { return }
        consumer.markDone(message)
    }

    private func call(_ job: JobEnvelope, route: ProviderRoute?) async -> ProviderOutcome {
        if let deadline = job.deadlineMs, Wire.nowMs() > deadline {
            return .permanent(JobError(type: "deadline_exceeded", code: "deadline_exceeded", message: "The job's deadline passed before it could run."))
        }
        guard let route else {
            return .permanent(JobError(type: "invalid_request_error", code: "model_not_found", message: "No route for model '\(job.model)' on this worker."))
        }
        do {
            let response = try await http.execute(adapter.request(for: job, route: route))
            return adapter.interpret(response)
        } catch {
            return adapter.interpret(error)
        }
    }

    // MARK: - Publishing

    /// The audit record of one state change of `job`, keyed by tenant like every audit event.
    private func audit(_ type: AuditEventType, _ job: JobEnvelope, attempt: Int, detail: [String: JSONValue]) -> KafkaProducerMessage {
        let event = AuditEvent(type: type, tenant: job.tenant, jobID: job.id, attempt: attempt, atMs: Wire.nowMs(), actor: instance, detail: .object(detail))
        return KafkaProducerMessage(topic: topics.audit, key: job.tenant, schema: AuditEvent.schema, job: job, value: event)
    }

    /// Sends until Kafka acknowledges: a broker outage delays the job, it never loses it.
    /// - Returns: false only when the task was cancelled first (the job stays unfinished and
    ///   will be redelivered).
    private func publish(_ messages: [KafkaProducerMessage]) async -> Bool {
        var delayMs = 200
        while !Task.isCancelled {
            do {
                try await producer.send(messages)
                return true
            } catch {
                logger.warning("publish failed; will retry", metadata: ["error": "\(error)", "delay_ms": "\(delayMs)"])
                try? await Task.sleep(for: .milliseconds(delayMs))
                delayMs = min(delayMs * 2, 5_000)
            }
        }
        return false
    }

    /// A record that is not a job envelope cannot be run; it goes to the DLQ with the reason so
    /// that nothing is silently dropped.
    private func deadLetter(_ message: KafkaMessage, reason: String) async {
        logger.error("job record sent to DLQ", metadata: ["topic": "\(message.topic)", "partition": "\(message.partition)", "offset": "\(message.offset)", "reason": "\(reason)"])
        var headers = message.headers
        headers.append(KafkaHeader(key: "sluice-dlq-reason", value: reason))
        headers.append(KafkaHeader(key: "sluice-dlq-source", value: "\(message.topic)/\(message.partition)/\(message.offset)"))
        let dead = KafkaProducerMessage(topic: topics.jobsDLQ, key: message.key, value: message.value, headers: headers)
        if await publish([dead]) { consumer.markDone(message) }
    }
}
