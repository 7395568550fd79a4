import Kafka
import Logging
import ServiceLifecycle
import SluiceCore
import SluiceHTTP
import SluiceKafka
import Synchronization

/// Runs jobs from the jobs topics against the providers and publishes their outcome.
///
/// Many jobs are in flight at once (up to the consumer's `maxOutstanding`, which pauses the
/// partitions at its bound); `concurrency` of them call providers while the rest wait in a
/// weighted queue, so p0 work overtakes a bulk backlog, and tenants of one priority take turns.
/// A message is marked done — and so its offset may be committed — only after its result and
/// audit events were acknowledged by Kafka, or after it was handed on to a retry topic or the DLQ.
///
/// Each job's route picks a deployment (by its strategy, skipping deployments whose breaker is
/// open, then the route's fallbacks in order); the deployment's ``DeploymentLimiter`` gives it a
/// slot within its requests, tokens and concurrency limits. A job waiting for a slot, or for a
/// retry, never holds a caller: it is parked and comes back to the front of its tenant's line
/// when due, so one deployment's backlog never delays another's jobs.
///
/// Jobs never wait long while holding their partition: a wait (retry or capacity) within
/// `localRetryMaxMs` happens here; a longer one goes through `sluice.jobs.retry.<delay>` with
/// its not-before time, and its offset moves on (``RetryRelay`` puts it back on its jobs topic
/// when due). Waiting for capacity or for a breaker does not spend an attempt.
public struct LLMWorkerPool: Service {
    /// The largest result record: the topics' and the producer's `max.message.bytes` (4 MiB,
    /// topics/*.yaml and the producer wiring) less room for headers and batch overhead.
    public static let maxResultBytes = 4 * 1024 * 1024 - 64 * 1024

    /// How often a job waiting for a concurrency slot looks again.
    static let busyPollMs = 20

    private let configuration: WorkerConfiguration
    private let consumer: KafkaConsumer
    private let publisher: JobPublisher
    private let topics: TopicCatalog
    private let router: ProviderRouter
    private let http: CurlHTTPClient
    /// One per deployment label: its pace and its breaker.
    let limiters: [String: DeploymentLimiter]
    /// Queue depth and calls running, for ``status``.
    let gauges = WorkerPoolGauges()
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
        var limiters: [String: DeploymentLimiter] = [:]
        for deployment in router.deployments {
            limiters[deployment.label] = DeploymentLimiter(deployment: deployment, breaker: configuration.breaker)
        }
        self.limiters = limiters
        self.instance = instance
        self.clock = clock
        self.backoff = Backoff(baseMs: configuration.retryBaseDelayMs, capMs: configuration.retryMaxDelayMs)
        self.logger = logger
        let publisher = self.publisher
        self.canceller = cancellations.map {
            JobCanceller(cancelled: $0, publisher: publisher, topics: topics, actor: instance, clock: clock, logger: logger)
        }
    }

    // MARK: - Work items

    /// A slot taken on a deployment.
    struct Grant: Sendable {
        let limiter: DeploymentLimiter
        let ticket: DeploymentLimiter.Ticket
        let route: String
    }

    /// A job this process holds, between the queue, a caller and a parked wait.
    struct WorkItem: Sendable {
        let message: KafkaMessage
        var job: JobEnvelope
        var attempt: Int
        /// When this process read it (its queue wait starts here).
        let readAtMs: Int64
        /// When its first call here began.
        var startedAtMs: Int64?
        /// Since when it has waited for capacity here; such waits share `localRetryMaxMs`.
        var waitingSinceMs: Int64?
        /// Set when it comes back from waiting for a slot it already holds.
        var grant: Grant?
        /// The deployment of its last call, for the result (its label and its price).
        var lastDeployment: String?
        var deployment: ProviderDeployment?
    }

    // MARK: - Service

    /// Runs the consumer too. At graceful shutdown no queued or parked job starts (they are
    /// released and read again later), running provider calls get `shutdownGraceMs` to finish
    /// and are then cancelled and left uncommitted; the consumer commits and leaves once every
    /// job it handed out is finished or released.
    public func run() async throws {
        let queue = WeightedJobQueue<WorkItem>(weights: configuration.weights)
        gauges.queue.withLock { $0 = queue }
        let (shutdown, shutdownStarted) = AsyncStream.makeStream(of: Void.self)
        let (parks, parking) = AsyncStream.makeStream(of: (WorkItem, Int).self)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await consumer.run()
            }
            group.addTask {
                for await message in consumer.messages {
                    guard let item = await admitToQueue(message) else { continue }
                    let priority = topics.priority(ofTopic: message.topic) ?? item.job.priority
                    if !queue.push(item, priority: priority, tenant: item.job.tenant) { consumer.release(message) }
                }
                // The consumer stopped handing out (shutdown or a fatal error): nothing queued starts.
                for item in queue.close() { giveBack(item) }
                parking.finish()
            }
            group.addTask {
                // Parked jobs sleep here, off the callers, and go back to the front of their line.
                await withDiscardingTaskGroup { sleepers in
                    for await (item, waitMs) in parks {
                        sleepers.addTask {
                            do {
                                try await Task.sleep(for: .milliseconds(waitMs))
                            } catch {
                                giveBack(item)
                                return
                            }
                            let priority = topics.priority(ofTopic: item.message.topic) ?? item.job.priority
                            if !queue.push(item, priority: priority, tenant: item.job.tenant, front: true) { giveBack(item) }
                        }
                    }
                    sleepers.cancelAll()
                }
            }
            group.addTask {
                await withGracefulShutdownHandler {
                    await runCalls(from: queue, parking: parking, shutdown: shutdown)
                } onGracefulShutdown: {
                    for item in queue.close() { giveBack(item) }
                    parking.finish()
                    shutdownStarted.finish()
                }
            }
            try await group.waitForAll()
        }
        logger.info("worker pool stopped")
    }

    /// The message as a work item, or nil when it was dead-lettered (undecodable).
    private func admitToQueue(_ message: KafkaMessage) async -> WorkItem? {
        do {
            let job = try Wire.decode(JobEnvelope.self, from: message.value)
            return WorkItem(message: message, job: job, attempt: job.attempt, readAtMs: clock.nowMs())
        } catch {
            if await publisher.deadLetter(message, reason: "undecodable job envelope: \(error)") {
                consumer.markDone(message)
            } else {
                consumer.release(message)
            }
            return nil
        }
    }

    /// Releases an item not finished here (shutdown, revoked partition): its slot goes back to
    /// its deployment and its record is read again.
    private func giveBack(_ item: WorkItem) {
        if let grant = item.grant { grant.limiter.cancel(grant.ticket, nowMs: clock.nowMs()) }
        consumer.release(item.message)
    }

    /// `concurrency` callers take jobs from the queue until it closes; once shutdown begins, a
    /// watchdog cancels those still running after the grace period.
    private func runCalls(
        from queue: WeightedJobQueue<WorkItem>, parking: AsyncStream<(WorkItem, Int)>.Continuation, shutdown: AsyncStream<Void>
    ) async {
        enum Exit { case caller, graceOver }
        let callers = max(1, configuration.concurrency)
        await withTaskGroup(of: Exit.self) { group in
            for _ in 0..<callers {
                group.addTask {
                    while let item = await queue.next() {
                        switch await handle(item) {
                        case .parked(let item, let waitMs):
                            if case .terminated = parking.yield((item, waitMs)) { giveBack(item) }
                        case .finished:
                            consumer.markDone(item.message)
                        case .abandoned:
                            giveBack(item)
                        }
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

    // MARK: - One step of a job

    /// What became of a job after one turn with a caller.
    private enum Step {
        /// Its outcome, retry or dead letter is on Kafka: commit its offset.
        case finished
        /// Given up unfinished (shutdown, revoked partition): it is read again.
        case abandoned
        /// Waits here `waitMs`, then queues again.
        case parked(WorkItem, waitMs: Int)
    }

    private func handle(_ item: WorkItem) async -> Step {
        // Its partition was revoked while it waited: the partition's new owner runs it.
        guard consumer.isCurrent(item.message) else { return .abandoned }
        if let cancelled = await cancelIfRequested(item) { return cancelled }
        var item = item
        let grant: Grant
        if let granted = item.grant {
            grant = granted
            item.grant = nil
        } else {
            switch admit(item) {
            case .call(let granted):
                grant = granted
            case .wait(let waitMs, let granted):
                WorkerMetrics.capacityWait(deployment: granted?.limiter.deployment.label, deferred: false)
                item.grant = granted
                if item.waitingSinceMs == nil { item.waitingSinceMs = clock.nowMs() }
                return .parked(item, waitMs: waitMs)
            case .defer(let untilMs, let reason):
                WorkerMetrics.capacityWait(deployment: nil, deferred: true)
                return await deferToRetryTopic(item, untilMs: untilMs, reason: reason)
            case .fail(let error):
                return await finish(item, outcome: .permanent(error), attemptEvent: nil)
            }
        }
        item.waitingSinceMs = nil
        return await call(item, grant: grant)
    }

    /// What admission came to.
    private enum Admission {
        case call(Grant)
        /// Wait here, holding `grant` if one was taken, then try (or call) again.
        case wait(ms: Int, grant: Grant?)
        /// No capacity within the local wait: come back at `untilMs` through a retry topic.
        case `defer`(untilMs: Int64, reason: String)
        case fail(JobError)
    }

    /// Picks a deployment for the job and takes a slot on it.
    ///
    /// The job's route first: its deployments in strategy order, skipping those whose breaker
    /// is open. Only when every deployment of a route is down are its fallbacks tried, in order;
    /// a route whose deployments are merely at their rate limit is waited for.
    private func admit(_ item: WorkItem) -> Admission {
        let now = clock.nowMs()
        if let deadline = item.job.deadlineMs, now > deadline {
            return .fail(JobError(type: "deadline_exceeded", code: "deadline_exceeded", message: "The job's deadline passed before it could run."))
        }
        let chain = router.chain(for: item.job.model)
        guard !chain.isEmpty else {
            return .fail(JobError(type: "invalid_request_error", code: "model_not_found", message: "No route for model '\(item.job.model)' on this worker."))
        }
        let waited = item.waitingSinceMs.map { max(0, now.subtractingReportingOverflow($0).partialValue) } ?? 0
        let budget = Int(max(0, Int64(configuration.localRetryMaxMs) - min(waited, Int64(configuration.localRetryMaxMs))))
        let tokens = Self.estimatedTokens(item)
        let share = fleetShare()
        var earliest: Int64?
        var busy = false
        var reason = "every deployment is down"
        for route in chain {
            var anyUp = false
            let deployments = ordered(route)
            // A deployment that can take the call now wins over a preferred one that is at its
            // limit, so that every deployment of a route runs at its own pace.
            if deployments.count > 1 {
                for deployment in deployments {
                    guard let limiter = limiters[deployment.label] else { continue }
                    limiter.setShare(share)
                    if case .granted(let ticket, let waitMs) = limiter.admit(tokens: tokens, nowMs: now, maxWaitMs: 0, spreading: false) {
                        let grant = Grant(limiter: limiter, ticket: ticket, route: route.name)
                        return waitMs == 0 ? .call(grant) : .wait(ms: waitMs, grant: grant)
                    }
                }
            }
            // The deployment that frees up first, if every one is at its limit.
            var soonest: (limiter: DeploymentLimiter, untilMs: Int64)?
            for deployment in deployments {
                guard let limiter = limiters[deployment.label] else { continue }
                limiter.setShare(share)
                switch limiter.admit(tokens: tokens, nowMs: now, maxWaitMs: budget, spreading: false) {
                case .granted(let ticket, let waitMs):
                    let grant = Grant(limiter: limiter, ticket: ticket, route: route.name)
                    return waitMs == 0 ? .call(grant) : .wait(ms: waitMs, grant: grant)
                case .down(let until):
                    earliest = min(earliest ?? until, until)
                case .deferred(let until):
                    anyUp = true
                    if until < soonest?.untilMs ?? .max { soonest = (limiter, until) }
                case .busy:
                    anyUp = true
                    busy = true
                }
            }
            // Only the soonest deployment books the job a place in its line of deferred jobs,
            // so that deferred jobs come back at the pace of all deployments together.
            if let soonest {
                reason = "no capacity on \(soonest.limiter.deployment.label) within \(budget) ms"
                switch soonest.limiter.admit(tokens: tokens, nowMs: now, maxWaitMs: budget, spreading: true) {
                case .granted(let ticket, let waitMs):
                    let grant = Grant(limiter: soonest.limiter, ticket: ticket, route: route.name)
                    return waitMs == 0 ? .call(grant) : .wait(ms: waitMs, grant: grant)
                case .deferred(let until), .down(let until):
                    earliest = min(earliest ?? until, until)
                case .busy:
                    busy = true
                }
            }
            if anyUp { break }
        }
        if busy, budget > 0 { return .wait(ms: min(Self.busyPollMs, budget), grant: nil) }
        let until = earliest ?? now + Int64(max(1_000, configuration.localRetryMaxMs))
        let waitMs = until.subtractingReportingOverflow(now).partialValue
        if waitMs <= Int64(budget) { return .wait(ms: Int(max(1, waitMs)), grant: nil) }
        return .defer(untilMs: until, reason: busy ? "every concurrency slot is taken" : reason)
    }

    /// The route's deployments in the order its strategy prefers them.
    private func ordered(_ route: ProviderRoute) -> [ProviderDeployment] {
        switch route.strategy {
        case "least-busy":
            return route.deployments.map { ($0, limiters[$0.label]?.load() ?? 0) }.sorted { $0.1 < $1.1 }.map(\.0)
        case "lowest-cost":
            // By the price of a typical call (input and output per million tokens together);
            // deployments without a price come last, in the configured order (a stable sort).
            func price(_ d: ProviderDeployment) -> Double { d.price.map { $0.inputPerMillion + $0.outputPerMillion } ?? .infinity }
            return route.deployments.enumerated().sorted { (price($0.element), $0.offset) < (price($1.element), $1.offset) }.map(\.element)
        default:
            var remaining = route.deployments
            var order: [ProviderDeployment] = []
            while !remaining.isEmpty {
                let total = remaining.reduce(0) { $0 + $1.weight }
                var pick = Int.random(in: 0..<max(1, total))
                let index = remaining.firstIndex { deployment in
                    pick -= deployment.weight
                    return pick < 0
                } ?? 0
                order.append(remaining.remove(at: index))
            }
            return order
        }
    }

    /// This worker's part of every fleet-wide limit: its share of the jobs partitions.
    private func fleetShare() -> Double {
        let assigned = consumer.assignedPartitionCount
        guard assigned > 0 else { return 1 }
        return min(1, Double(assigned) / Double(max(1, configuration.jobPartitions)))
    }

    /// Tokens a call will cost, before it is made: about one per four bytes of the request plus
    /// the completion it may ask for. The provider's `usage` corrects it afterwards.
    static func estimatedTokens(_ item: WorkItem) -> Int {
        let prompt = item.message.value.count / 4
        let request = item.job.request
        let completion = (request["max_completion_tokens"] ?? request["max_tokens"])?.intValue ?? 0
        return prompt + Int(min(max(0, completion), 100_000_000))
    }

    /// Puts the job on a retry topic to come back at `untilMs`, at the same attempt: waiting for
    /// capacity or for a breaker spends no retry.
    private func deferToRetryTopic(_ item: WorkItem, untilMs: Int64, reason: String) async -> Step {
        let now = clock.nowMs()
        if let deadline = item.job.deadlineMs, untilMs > deadline {
            let error = JobError(type: "deadline_exceeded", code: "deadline_exceeded", message: "The job's deadline comes before a provider could take it (\(reason)).")
            return await finish(item, outcome: .permanent(error), attemptEvent: nil)
        }
        var next = item.job
        next.attempt = item.attempt
        next.notBeforeMs = untilMs
        let delayMs = Int(min(max(0, untilMs.subtractingReportingOverflow(now).partialValue), Int64(configuration.retryMaxDelayMs)))
        logger.debug("deferring job until capacity", metadata: ["job_id": "\(item.job.id)", "delay_ms": "\(delayMs)", "reason": "\(reason)"])
        let record = KafkaProducerMessage(
            topic: topics.jobRetry(delayMs: delayMs), key: item.job.tenant, schema: JobEnvelope.schema, job: next, value: next)
        switch await publisher.send([record]) {
        case .sent: return .finished
        case .stopped: return .abandoned
        case .rejected(let error):
            let failure = JobError(
                type: "internal_error", code: "retry_not_scheduled",
                message: Truncation.prefix("Kafka refused to hold the job until capacity (\(error))", maxBytes: 2_048))
            return await finish(item, outcome: .permanent(failure), attemptEvent: nil)
        }
    }

    // MARK: - Calling

    private func call(_ item: WorkItem, grant: Grant) async -> Step {
        var item = item
        let job = item.job
        let attempt = item.attempt
        let deployment = grant.limiter.deployment
        item.lastDeployment = deployment.label
        item.deployment = deployment
        // The start is published while the provider works: it costs a broker round trip, and
        // the job is only marked done after both anyway.
        async let started = publisher.send([audit(.started, job, attempt: attempt, detail: [
            "route": .string(deployment.label), "provider": .string(deployment.provider), "model_route": .string(grant.route),
        ])])
        let callStart = clock.nowMs()
        if item.startedAtMs == nil {
            item.startedAtMs = callStart
            WorkerMetrics.queueWait(job, startedAtMs: callStart)
        }
        let (outcome, status, snapshot) = await execute(job, on: deployment, attempt: attempt)
        let latencyMs = clock.nowMs().subtractingReportingOverflow(callStart).partialValue
        logger.debug(
            job: job, "provider call finished",
            metadata: [
                "deployment": "\(deployment.label)", "attempt": "\(attempt)", "http_status": "\(status.map { String($0) } ?? "none")",
                "outcome": "\(outcome.name)", "latency_ms": "\(latencyMs)",
            ])
        let startPublished = await started
        // Cancelled at the end of the shutdown grace: publish nothing more; the job runs again.
        if Task.isCancelled {
            grant.limiter.cancel(grant.ticket, nowMs: clock.nowMs())
            return .abandoned
        }
        grant.limiter.complete(grant.ticket, outcome, snapshot: snapshot, nowMs: clock.nowMs())
        switch startPublished {
        case .sent: break
        case .stopped: return .abandoned
        case .rejected(let error):
            logger.error("Kafka refused a job.started event; going on", metadata: ["job_id": "\(job.id)", "error": "\(error)"])
        }
        let attemptEvent = attemptAudit(job, attempt: attempt, deployment: deployment, route: grant.route, outcome: outcome, status: status, latencyMs: latencyMs)
        if case .retriable(let error, _) = outcome {
            // Gathered for the retry topic and the DLQ (`sluice dlq list` shows them).
            item.job.recordFailure(AttemptFailure(attempt: attempt, atMs: clock.nowMs(), error: error))
        }
        // Cancelled while the call ran: a success stands, anything else is not retried.
        if case .success = outcome {} else if canceller?.isCancelled(job) == true {
            _ = await publisher.send([attemptEvent])
            if let cancelled = await cancelIfRequested(item) { return cancelled }
        }

        guard case .retriable(let error, let retryAfterMs) = outcome, attempt < configuration.maxAttempts else {
            return await finish(item, outcome: outcome, attemptEvent: attemptEvent)
        }
        let delayMs = retryDelayMs(retry: attempt, retryAfterMs: retryAfterMs)
        let notBefore = clock.nowMs().addingReportingOverflow(Int64(delayMs)).partialValue
        if let deadline = job.deadlineMs, notBefore > deadline {
            let expired = ProviderOutcome.permanent(JobError(
                type: "deadline_exceeded", code: "deadline_exceeded",
                message: "The job's deadline comes before its next try could (last error: \(error.message))",
                providerStatus: error.providerStatus))
            return await finish(item, outcome: expired, attemptEvent: attemptEvent)
        }
        let local = delayMs <= configuration.localRetryMaxMs
        logger.forJob(job).info(
            "retrying job",
            metadata: [
                "attempt": "\(attempt)", "delay_ms": "\(delayMs)", "error": "\(error.message)",
                "deployment": "\(deployment.label)", "via": "\(local ? "local wait" : "retry topic")",
            ])
        var detail: [String: JSONValue] = [
            "error": .string(error.message), "code": .string(error.code ?? ""), "delay_ms": .int(Int64(delayMs)),
            "not_before_ms": .int(notBefore),
        ]
        if let status = error.providerStatus { detail["provider_status"] = .int(Int64(status)) }
        let retrying = audit(.retrying, job, attempt: attempt, detail: detail)
        WorkerSpans.retry(job, attempt: attempt, delayMs: delayMs, via: local ? "local_wait" : "retry_topic", error: error, deployment: deployment.label)

        guard local else {
            var next = item.job
            next.attempt = attempt + 1
            next.notBeforeMs = notBefore
            let record = KafkaProducerMessage(
                topic: topics.jobRetry(delayMs: delayMs), key: job.tenant, schema: JobEnvelope.schema, job: next, value: next)
            switch await publisher.send([attemptEvent, retrying, record]) {
            case .sent: return .finished
            case .stopped: return .abandoned
            case .rejected(let kafkaError):
                let failure = JobError(
                    type: "internal_error", code: "retry_not_scheduled",
                    message: Truncation.prefix("Kafka refused the job's retry (\(kafkaError)); last error: \(error.message)", maxBytes: 2_048))
                return await finish(item, outcome: .permanent(failure), attemptEvent: nil)
            }
        }
        switch await publisher.send([attemptEvent, retrying]) {
        case .sent, .rejected: break
        case .stopped: return .abandoned
        }
        item.attempt = attempt + 1
        return .parked(item, waitMs: max(1, delayMs))
    }

    /// One provider call: its outcome, the HTTP status if there was an answer, and the rate
    /// limits the answer reported.
    private func execute(_ job: JobEnvelope, on deployment: ProviderDeployment, attempt: Int) async -> (ProviderOutcome, Int?, RateLimitSnapshot?) {
        // The call is a span of its own in the job's trace: the provider sees its span id.
        let parent = job.traceparent.flatMap(TraceContext.init(traceparent:))
        let span = parent?.child()
        var job = job
        job.traceparent = span?.traceparent ?? job.traceparent
        let spanStart = FinishedSpan.nowUnixNanos()
        gauges.calling.add(1, ordering: .relaxed)
        defer { gauges.calling.subtract(1, ordering: .relaxed) }
        let adapter = ProviderAdapters.adapter(for: deployment.kind) ?? OpenAIChatAdapter()
        let request: HTTPClientRequest
        do {
            request = try adapter.request(for: job, deployment: deployment, timeoutMs: configuration.requestTimeoutMs)
        } catch {
            return (.permanent(error), nil, nil)
        }
        let callStarted = ContinuousClock.now
        let result: (ProviderOutcome, Int?, RateLimitSnapshot?)
        do {
            let response = try await http.execute(request)
            result = (adapter.interpret(response), response.status, adapter.rateLimits(in: response))
        } catch {
            result = (adapter.interpret(error), nil, nil)
        }
        WorkerMetrics.providerCall(deployment, outcome: result.0, elapsed: ContinuousClock.now - callStarted)
        if let span, SpanRecorder.isEnabled {
            var attributes = [
                "sluice.job_id": job.id, "sluice.tenant": job.tenant, "sluice.deployment": deployment.label,
                "sluice.provider": deployment.provider, "sluice.outcome": result.0.name, "sluice.attempt": String(attempt),
            ]
            if let status = result.1 { attributes["http.response.status_code"] = String(status) }
            SpanRecorder.record(FinishedSpan(
                name: "sluice.provider.call", context: span, parentSpanID: parent?.spanID, kind: .client, startUnixNanos: spanStart,
                endUnixNanos: FinishedSpan.nowUnixNanos(), attributes: attributes, failed: result.0.name != "success"))
        }
        return result
    }

    /// Ends the job as cancelled when a cancellation of it is known (nil otherwise); a slot it
    /// holds goes back to its deployment.
    private func cancelIfRequested(_ item: WorkItem) async -> Step? {
        guard let canceller else { return nil }
        await canceller.waitUntilReady()
        let startedAt = item.startedAtMs ?? clock.nowMs()
        switch await canceller.cancelIfRequested(item.job, attempt: item.attempt, startedAtMs: startedAt) {
        case nil:
            return nil
        case .finished:
            if let grant = item.grant { grant.limiter.cancel(grant.ticket, nowMs: clock.nowMs()) }
            return .finished
        case .abandoned:
            if let grant = item.grant { grant.limiter.cancel(grant.ticket, nowMs: clock.nowMs()) }
            return .abandoned
        }
    }

    /// The wait before retry number `retry`: the provider's `Retry-After` when it sent one,
    /// else the backoff; never longer than `retryMaxDelayMs`.
    private func retryDelayMs(retry: Int, retryAfterMs: Int?) -> Int {
        guard let retryAfterMs else { return backoff.delayMs(retry: retry) }
        return min(max(0, retryAfterMs), configuration.retryMaxDelayMs)
    }

    /// `job.attempt`: what one call came to, for the audit log.
    private func attemptAudit(
        _ job: JobEnvelope, attempt: Int, deployment: ProviderDeployment, route: String, outcome: ProviderOutcome, status: Int?, latencyMs: Int64
    ) -> KafkaProducerMessage {
        var detail: [String: JSONValue] = [
            "provider": .string(deployment.provider), "deployment": .string(deployment.label), "route": .string(route),
            "latency_ms": .int(max(0, latencyMs)),
        ]
        if let status { detail["status"] = .int(Int64(status)) }
        switch outcome {
        case .success(_, let usage):
            detail["outcome"] = "succeeded"
            if let usage {
                detail["prompt_tokens"] = .int(Int64(usage.promptTokens))
                detail["completion_tokens"] = .int(Int64(usage.completionTokens))
                detail["total_tokens"] = .int(Int64(usage.totalTokens))
            }
        case .retriable(let error, _), .permanent(let error):
            detail["outcome"] = if case .retriable = outcome { "retriable" } else { "permanent" }
            detail["error"] = .string(Truncation.prefix(error.message, maxBytes: 2_048))
            if let code = error.code { detail["code"] = .string(code) }
        }
        return audit(.attempt, job, attempt: attempt, detail: detail)
    }

    // MARK: - Outcome

    /// Publishes the job's result and its final audit event.
    ///
    /// A result larger than a record may hold is cut to fit (and says so). If Kafka still
    /// refuses it, a small failed result naming the reason takes its place; if even that is
    /// refused, the job record goes to the DLQ. The offset moves on in every case but shutdown.
    private func finish(_ item: WorkItem, outcome: ProviderOutcome, attemptEvent: KafkaProducerMessage?) async -> Step {
        let job = item.job
        let attempt = item.attempt
        let routeLabel = item.lastDeployment
        let finishedAt = clock.nowMs()
        let startedAt = item.startedAtMs ?? finishedAt
        var result: ResultEnvelope
        switch outcome {
        case .success(let response, let usage):
            let cost = item.deployment?.cost(of: usage)
            result = ResultEnvelope(
                jobID: job.id, tenant: job.tenant, attempt: attempt, status: .succeeded, model: job.model, route: routeLabel,
                response: response, usage: usage, cost: cost, currency: cost == nil ? nil : item.deployment?.currency,
                startedAtMs: startedAt, finishedAtMs: finishedAt
            )
        case .retriable(let error, _), .permanent(let error):
            result = ResultEnvelope(
                jobID: job.id, tenant: job.tenant, attempt: attempt, status: .failed, model: job.model, route: routeLabel,
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
        var records = [record, finalAudit(result, job, startedAt: startedAt)] + (attemptEvent.map { [$0] } ?? [])
        if let reason = Self.deadLetterReason(outcome) {
            var dead = job
            dead.attempt = attempt
            dead.notBeforeMs = nil
            records.append(publisher.deadLetterRecord(dead, reason: reason, source: instance))
        }
        switch await publisher.send(records) {
        case .sent:
            WorkerMetrics.resultPublished(result, job: job)
            logger.debug(job: job, "result published", metadata: ["status": "\(result.status.rawValue)", "attempt": "\(result.attempt)"])
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

extension AuditEventType {
    /// One provider call of a job: provider, deployment, status, latency, tokens, error.
    static let attempt = AuditEventType(rawValue: "job.attempt")
}
