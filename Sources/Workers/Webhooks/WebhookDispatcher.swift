import Foundation
import Kafka
import Logging
import ServiceLifecycle
import SluiceCore
import SluiceHTTP
import Synchronization

/// The webhook worker pool (group `sluice-webhooks`): turns job results and batch notices on
/// `sluice.results` into signed callbacks, and retries failed ones through
/// `sluice.webhooks.retry.<delay>` until they land in `sluice.webhooks.dlq`.
///
/// A record is marked done only once its outcome is durable: delivered (and its audit event
/// acknowledged), or handed on to a retry topic or the DLQ together with the audit event. A
/// crash in between sends the callback again under the same `webhook-id`, which is what the
/// receiver deduplicates on.
public struct WebhookDispatcher: Service {
    private let configuration: WebhooksConfiguration
    private let consumer: KafkaConsumer
    private let publisher: JobPublisher
    private let topics: TopicCatalog
    private let http: CurlHTTPClient
    private let policy: WebhookURLPolicy
    private let endpoints: ConfiguredWebhookEndpoints
    private let clock: WallClock
    private let logger: Logger
    private let instance: String
    private let schedule: [Int]
    private let health: EndpointHealth

    /// - Parameters:
    ///   - consumer: subscribed to `topics.results` and `topics.allWebhookRetries` in
    ///     `topics.webhooksGroup`; the dispatcher runs it.
    ///   - http: its own client: a slow receiver must not take provider calls' connections.
    ///   - instance: names this process in audit events.
    public init(
        configuration: WebhooksConfiguration, consumer: KafkaConsumer, producer: KafkaProducer, topics: TopicCatalog,
        http: CurlHTTPClient, policy: WebhookURLPolicy, endpoints: ConfiguredWebhookEndpoints, clock: WallClock = .system,
        logger: Logger, instance: String
    ) {
        self.configuration = configuration
        self.consumer = consumer
        self.publisher = JobPublisher(producer: producer, topics: topics, logger: logger)
        self.topics = topics
        self.http = http
        self.policy = policy
        self.endpoints = endpoints
        self.clock = clock
        self.logger = logger
        self.instance = instance
        let schedule = configuration.retryScheduleMs
        self.schedule = schedule.isEmpty ? [0] : schedule
        self.health = EndpointHealth(breaker: configuration.breaker)
    }

    public func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await consumer.run()
            }
            group.addTask {
                await withDiscardingTaskGroup { tasks in
                    for await message in consumer.messages {
                        tasks.addTask { await handle(message) }
                    }
                    tasks.cancelAll()
                }
            }
            try await group.waitForAll()
        }
        logger.info("webhook workers stopped")
    }

    // MARK: - Records

    private func handle(_ message: KafkaMessage) async {
        let schema = message.header(RecordHeader.schema)
        let deliveries: [WebhookDelivery]
        switch schema {
        case WebhookDelivery.schema?:
            do {
                deliveries = [try Wire.decode(WebhookDelivery.self, from: message.value)]
            } catch {
                await finish(message, with: [deadLetter(raw: message, reason: "undecodable webhook delivery: \(error)")])
                return
            }
        case ResultEnvelope.schema?:
            do {
                let result = try Wire.decode(ResultEnvelope.self, from: message.value)
                deliveries = await jobDeliveries(
                    result, webhookURL: message.header(RecordHeader.webhookURL), batchID: message.header(RecordHeader.batchID),
                    traceparent: message.header(RecordHeader.traceparent))
            } catch {
                // The ledger reads the same record and records why it is malformed.
                logger.error("undecodable result; no webhook for it", metadata: ["offset": "\(message.offset)", "error": "\(error)"])
                consumer.markDone(message)
                return
            }
        case BatchNotice.schema?:
            do {
                let notice = try Wire.decode(BatchNotice.self, from: message.value)
                deliveries = await batchDeliveries(notice, atMs: message.timestampMs ?? clock.nowMs())
            } catch {
                logger.error("undecodable batch notice; no webhook for it", metadata: ["offset": "\(message.offset)", "error": "\(error)"])
                consumer.markDone(message)
                return
            }
        default:
            // Other schemas on the results topic are not events (yet); skipping them is deliberate.
            logger.debug("record of another schema on a webhook topic; skipped", metadata: ["schema": "\(schema ?? "none")"])
            consumer.markDone(message)
            return
        }
        var records: [KafkaProducerMessage] = []
        for delivery in deliveries {
            do {
                try await waitUntilDue(delivery)
            } catch {
                consumer.release(message)
                return
            }
            records += await attempt(delivery)
        }
        await finish(message, with: records)
    }

    private func finish(_ message: KafkaMessage, with records: [KafkaProducerMessage]) async {
        guard !records.isEmpty else {
            consumer.markDone(message)
            return
        }
        switch await publisher.send(records) {
        case .sent:
            consumer.markDone(message)
        case .stopped:
            consumer.release(message)
        case .rejected(let error):
            logger.critical(
                "Kafka refused a webhook delivery's records; the delivery is dropped so that its partition can go on",
                metadata: ["topic": "\(message.topic)", "offset": "\(message.offset)", "error": "\(error)"])
            consumer.markDone(message)
        }
    }

    private func waitUntilDue(_ delivery: WebhookDelivery) async throws {
        let waitMs = min(max(0, (delivery.notBeforeMs ?? 0).subtractingReportingOverflow(clock.nowMs()).partialValue), 24 * 3_600_000)
        if waitMs > 0 { try await Task.sleep(for: .milliseconds(waitMs)) }
    }

    /// One delivery per target: the URL the job named, and each of the tenant's endpoints that
    /// takes this event type.
    private func jobDeliveries(_ result: ResultEnvelope, webhookURL: String?, batchID: String?, traceparent: String?) async -> [WebhookDelivery] {
        guard let type = WebhookPayload.jobEventType(result.status) else { return [] }
        let key = "\(result.jobID)/\(result.replay)/\(type)"
        // A batch's lines are announced by the batch's own event, not one callback per line to
        // every endpoint of the tenant (a 50,000-line batch would flood them).
        return await deliveries(
            tenant: result.tenant, subject: result.jobID, type: type, body: WebhookPayload.job(result, batchID: batchID)?.body ?? "",
            eventKey: key, ownURL: webhookURL, ownEndpoint: "job",
            includeTenantEndpoints: batchID == nil, traceparent: traceparent.flatMap(TraceContext.init(traceparent:))?.traceparent)
    }

    private func batchDeliveries(_ notice: BatchNotice, atMs: Int64) async -> [WebhookDelivery] {
        guard let (type, body) = WebhookPayload.batch(notice, atMs: atMs) else {
            logger.debug("batch status not announced", metadata: ["status": "\(notice.status)"])
            return []
        }
        return await deliveries(
            tenant: notice.tenant, subject: notice.batchID, type: type, body: body, eventKey: "\(notice.batchID)/\(type)",
            ownURL: notice.webhookURL, ownEndpoint: "batch")
    }

    private func deliveries(
        tenant: String, subject: String, type: String, body: @autoclosure () -> String, eventKey: String, ownURL: String?,
        ownEndpoint: String,
        includeTenantEndpoints: Bool = true, traceparent: String? = nil
    ) async -> [WebhookDelivery] {
        let nowMs = clock.nowMs()
        var targets: [(url: String, endpoint: String)] = []
        if let ownURL { targets.append((ownURL, ownEndpoint)) }
        if includeTenantEndpoints {
            var endpoints = self.endpoints.configured(tenant: tenant)
            do {
                endpoints += try await self.endpoints.registered(tenant: tenant)
            } catch {
                // The ledger cannot be read: the job's own URL and the configured endpoints still
                // get theirs; the registered ones miss this event, said here at error level.
                logger.error("cannot read the tenant's registered webhook endpoints; they miss this event",
                    metadata: ["tenant": "\(tenant)", "subject": "\(subject)", "error": "\(error)"])
            }
            for endpoint in endpoints where endpoint.receives(type) && !endpoint.disabled {
                targets.append((endpoint.url, endpoint.id))
            }
        }
        // Most jobs name no webhook and most tenants register none: the body is only made for
        // someone (made for every result, it cost 3 % of `serve`'s CPU).
        guard !targets.isEmpty else { return [] }
        let body = body()
        return targets.map { target in
            WebhookDelivery(
                id: WebhookDelivery.id(eventKey: eventKey, endpointID: target.endpoint == ownEndpoint ? target.url : target.endpoint),
                tenant: tenant, subjectID: subject, type: type, url: target.url, endpointID: target.endpoint, payload: body,
                createdAtMs: nowMs, traceparent: traceparent)
        }
    }

    // MARK: - Attempts

    /// What one attempt came to, for the audit event and the next step.
    enum Outcome {
        case delivered(status: Int)
        /// Worth trying again later (after `retryAfterMs` if the receiver said so).
        case failed(status: Int?, error: String, retryAfterMs: Int?)
        /// 410 Gone: the endpoint is disabled, nothing more goes to it.
        case gone
        /// Will never work (no secret, URL refused by policy, endpoint disabled).
        case refused(String)
    }

    /// Makes one attempt and returns the records that make its outcome durable.
    private func attempt(_ delivery: WebhookDelivery) async -> [KafkaProducerMessage] {
        let healthKey = delivery.endpointID == "job" || delivery.endpointID == "batch" ? delivery.url : delivery.endpointID
        if health.isDisabled(healthKey) {
            return conclude(delivery, outcome: .refused("the endpoint is disabled (it answered 410 Gone)"), durationMs: 0)
        }
        let secrets: [WebhookSecret]
        if delivery.endpointID == "job" || delivery.endpointID == "batch" {
            secrets = endpoints.tenantSecrets(delivery.tenant)
        } else {
            let known = (try? await endpoints.endpoints(tenant: delivery.tenant))?.first { $0.id == delivery.endpointID }
            guard let known else {
                return conclude(delivery, outcome: .refused("the endpoint no longer exists"), durationMs: 0)
            }
            if known.disabled { return conclude(delivery, outcome: .refused("the endpoint is disabled"), durationMs: 0) }
            secrets = known.secrets
        }
        guard !secrets.isEmpty else {
            return conclude(delivery, outcome: .refused("tenant '\(delivery.tenant)' has no webhook signing secret (webhooks.tenants.\(delivery.tenant).secrets)"), durationMs: 0)
        }
        // Checked again now: the name may point somewhere else than when the job was accepted.
        do {
            try await policy.check(delivery.url, tenant: delivery.tenant)
        } catch {
            return conclude(delivery, outcome: .refused("URL refused: \(error)"), durationMs: 0)
        }
        let nowMs = clock.nowMs()
        guard let permit = health.permit(healthKey, nowMs: nowMs) else {
            // The breaker is open: wait for it without spending an attempt.
            var later = delivery
            later.notBeforeMs = health.reopensAtMs(healthKey, nowMs: nowMs) ?? nowMs + 1_000
            let delayMs = Int(clamping: (later.notBeforeMs ?? nowMs) - nowMs)
            return [record(later, topic: topics.webhookRetry(delayMs: delayMs))]
        }
        let body = Array(delivery.payload.utf8)
        // The attempt is a span of the job's trace (a new trace for a batch's event); the
        // receiver sees its id in `traceparent` and can join its own spans to the trace.
        let parent = delivery.traceparent.flatMap(TraceContext.init(traceparent:))
        let span = parent?.child() ?? TraceContext.start()
        let spanStart = FinishedSpan.nowUnixNanos()
        var headers = [
            HTTPHeader("Content-Type", "application/json"), HTTPHeader("User-Agent", "Sluice-Webhooks/1"),
            HTTPHeader(RecordHeader.traceparent, span.traceparent),
        ]
        for (name, value) in WebhookSigner.headers(id: delivery.id, timestampSeconds: nowMs / 1_000, body: body, secrets: secrets) {
            headers.append(HTTPHeader(name, value))
        }
        let request = HTTPClientRequest(method: "POST", url: delivery.url, headers: headers, body: body, timeoutMs: configuration.timeoutMs)
        let started = ContinuousClock.now
        let outcome: Outcome
        do {
            let response = try await http.execute(request)
            switch response.status {
            case 200..<300: outcome = .delivered(status: response.status)
            case 410: outcome = .gone
            default:
                outcome = .failed(
                    status: response.status, error: "HTTP \(response.status)",
                    retryAfterMs: Self.retryAfterMs(response.header("Retry-After"), nowMs: nowMs, capSeconds: configuration.maxRetryAfterSeconds))
            }
        } catch {
            outcome = .failed(status: nil, error: "\(error)", retryAfterMs: nil)
        }
        let elapsed = started.duration(to: .now).components
        let durationMs = Int(clamping: elapsed.seconds * 1_000 + elapsed.attoseconds / 1_000_000_000_000_000)
        switch outcome {
        case .delivered: health.record(healthKey, .success, permit: permit, nowMs: clock.nowMs())
        case .failed(let status, _, _): health.record(healthKey, status == 429 ? .neutral : .failure, permit: permit, nowMs: clock.nowMs())
        case .gone: health.disable(healthKey)
        case .refused: break
        }
        WebhookSpans.attempt(delivery, span: span, parent: parent, startedAt: spanStart, outcome: outcome)
        return conclude(delivery, outcome: outcome, durationMs: durationMs)
    }

    /// The audit event of the attempt plus, for a failure, the delivery's next step: a retry
    /// topic while the schedule lasts, then the DLQ.
    private func conclude(_ delivery: WebhookDelivery, outcome: Outcome, durationMs: Int) -> [KafkaProducerMessage] {
        let nowMs = clock.nowMs()
        var detail: [String: JSONValue] = [
            "delivery_id": .string(delivery.id), "url": .string(delivery.url), "endpoint_id": .string(delivery.endpointID),
            "event_type": .string(delivery.type), "duration_ms": .int(Int64(durationMs)),
            "created_at_ms": .int(delivery.createdAtMs),
        ]
        // The body goes into the ledger once, with the first attempt, for the deliveries list and
        // manual retries.
        if delivery.attempt == 1 { detail["payload"] = .string(delivery.payload) }
        var records: [KafkaProducerMessage] = []
        switch outcome {
        case .delivered(let status):
            detail["outcome"] = "delivered"
            detail["status_code"] = .int(Int64(status))
            logger.info("webhook delivered", metadata: ["delivery_id": "\(delivery.id)", "attempt": "\(delivery.attempt)"])
        case .gone:
            detail["outcome"] = "endpoint_disabled"
            detail["status_code"] = 410
            logger.warning("webhook endpoint answered 410 Gone; disabled", metadata: ["delivery_id": "\(delivery.id)", "endpoint_id": "\(delivery.endpointID)"])
            records.append(deadLetter(delivery, reason: "the endpoint answered 410 Gone and is disabled"))
        case .refused(let reason):
            detail["outcome"] = "refused"
            detail["error"] = .string(reason)
            logger.warning("webhook not sent", metadata: ["delivery_id": "\(delivery.id)", "reason": "\(reason)"])
            records.append(deadLetter(delivery, reason: reason))
        case .failed(let status, let error, let retryAfterMs):
            if let status { detail["status_code"] = .int(Int64(status)) }
            detail["error"] = .string(Truncation.prefix(error, maxBytes: 1_024))
            if delivery.attempt < schedule.count {
                let delayMs = max(Self.jittered(schedule[delivery.attempt]), retryAfterMs ?? 0)
                var next = delivery
                next.attempt += 1
                next.notBeforeMs = nowMs.addingReportingOverflow(Int64(delayMs)).partialValue
                detail["outcome"] = "retrying"
                detail["next_attempt_at_ms"] = .int(next.notBeforeMs ?? nowMs)
                records.append(record(next, topic: topics.webhookRetry(delayMs: delayMs)))
                logger.info(
                    "webhook failed; will retry",
                    metadata: ["delivery_id": "\(delivery.id)", "attempt": "\(delivery.attempt)", "delay_ms": "\(delayMs)", "error": "\(error)"])
            } else {
                detail["outcome"] = "dead"
                records.append(deadLetter(delivery, reason: "failed \(delivery.attempt) attempts; last: \(error)"))
                logger.warning("webhook gave up", metadata: ["delivery_id": "\(delivery.id)", "attempts": "\(delivery.attempt)"])
            }
        }
        WorkerMetrics.webhookAttempt(outcome: detail["outcome"]?.stringValue ?? "unknown", durationMs: durationMs)
        let event = AuditEvent(
            id: DerivedID.make("webhook-attempt", delivery.id, String(delivery.attempt)), type: .webhookAttempt,
            tenant: delivery.tenant, jobID: delivery.subjectID, attempt: delivery.attempt, atMs: nowMs, actor: instance,
            detail: .object(detail))
        records.insert(
            KafkaProducerMessage(
                topic: topics.audit, key: Array(delivery.tenant.utf8), value: Wire.encode(event),
                headers: [
                    KafkaHeader(key: RecordHeader.schema, value: AuditEvent.schema), KafkaHeader(key: RecordHeader.tenant, value: delivery.tenant),
                    KafkaHeader(key: RecordHeader.jobID, value: delivery.subjectID),
                ]), at: 0)
        return records
    }

    private func record(_ delivery: WebhookDelivery, topic: String) -> KafkaProducerMessage {
        var headers = [
            KafkaHeader(key: RecordHeader.schema, value: WebhookDelivery.schema), KafkaHeader(key: RecordHeader.tenant, value: delivery.tenant),
            KafkaHeader(key: RecordHeader.jobID, value: delivery.subjectID),
        ]
        if let traceparent = delivery.traceparent { headers.append(KafkaHeader(key: RecordHeader.traceparent, value: traceparent)) }
        return KafkaProducerMessage(topic: topic, key: Array(delivery.subjectID.utf8), value: Wire.encode(delivery), headers: headers)
    }

    private func deadLetter(_ delivery: WebhookDelivery, reason: String) -> KafkaProducerMessage {
        var dead = record(delivery, topic: topics.webhooksDLQ)
        dead.headers.append(KafkaHeader(key: DeadLetterHeader.reason, value: Truncation.prefix(reason, maxBytes: 2_048)))
        dead.headers.append(KafkaHeader(key: DeadLetterHeader.source, value: instance))
        return dead
    }

    private func deadLetter(raw message: KafkaMessage, reason: String) -> KafkaProducerMessage {
        logger.error("webhook record sent to DLQ", metadata: ["topic": "\(message.topic)", "offset": "\(message.offset)", "reason": "\(reason)"])
        var headers = message.headers
        headers.append(KafkaHeader(key: DeadLetterHeader.reason, value: Truncation.prefix(reason, maxBytes: 2_048)))
        headers.append(KafkaHeader(key: DeadLetterHeader.source, value: "\(message.topic)/\(message.partition)/\(message.offset)"))
        return KafkaProducerMessage(topic: topics.webhooksDLQ, key: message.key, value: message.value, headers: headers)
    }

    // MARK: - Timing

    /// `delayMs` ± 10 %, so that many deliveries failing together do not retry together.
    static func jittered(_ delayMs: Int) -> Int {
        guard delayMs >= 10 else { return delayMs }
        let spread = delayMs / 10
        return delayMs + Int.random(in: -spread...spread)
    }

    /// A receiver's `Retry-After` (seconds or an HTTP date) in milliseconds from now, capped at
    /// `capSeconds` (`max_retry_after_seconds`); nil when absent, negative or unreadable; a
    /// date in the past is 0.
    public static func retryAfterMs(_ value: String?, nowMs: Int64, capSeconds: Int) -> Int? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        let capMs = max(0, min(capSeconds, WebhooksConfiguration.maxScheduleStepMs / 1_000)) * 1_000
        if value.count <= 18, value.allSatisfy(\.isASCII), let seconds = Int(value) {
            guard seconds >= 0 else { return nil }
            return min(seconds, capMs / 1_000) * 1_000
        }
        if let at = HTTPDate.unixSeconds(value) {
            let deltaMs = at.multipliedReportingOverflow(by: 1_000)
            guard !deltaMs.overflow else { return nil }
            return Int(clamping: min(max(0, deltaMs.partialValue.subtractingReportingOverflow(nowMs).partialValue), Int64(capMs)))
        }
        return nil
    }
}

extension AuditEventType {
    /// One webhook delivery attempt: URL, status code, outcome, duration, next attempt.
    public static let webhookAttempt = AuditEventType(rawValue: "webhook.attempt")
}

/// Per-endpoint circuit breakers and the endpoints disabled by a 410, shared by every delivery
/// of one process.
final class EndpointHealth: Sendable {
    private struct State {
        var breakers: [String: CircuitBreaker] = [:]
        var disabled: Set<String> = []
    }

    private let state = Mutex(State())
    private let breaker: BreakerConfiguration

    init(breaker: BreakerConfiguration) { self.breaker = breaker }

    func isDisabled(_ key: String) -> Bool { state.withLock { $0.disabled.contains(key) } }

    func disable(_ key: String) { state.withLock { _ = $0.disabled.insert(key) } }

    func permit(_ key: String, nowMs: Int64) -> CircuitBreaker.Permit? {
        state.withLock { s in
            var b = s.breakers[key] ?? CircuitBreaker(configuration: breaker)
            let permit = b.permit(nowMs: nowMs)
            s.breakers[key] = b
            return permit
        }
    }

    func reopensAtMs(_ key: String, nowMs: Int64) -> Int64? {
        state.withLock { $0.breakers[key]?.reopensAtMs(nowMs: nowMs) }
    }

    func record(_ key: String, _ result: CircuitBreaker.Result, permit: CircuitBreaker.Permit, nowMs: Int64) {
        state.withLock { s in
            s.breakers[key]?.record(result, permit: permit, nowMs: nowMs)
        }
    }
}
