import Kafka
import Logging
import ServiceLifecycle
import SluiceCore
import SluiceKafka

/// Puts jobs waiting in `sluice.jobs.retry.<delay>` back on their jobs topic when they are due.
///
/// Each waiting job holds only its retry partition's commit (never a jobs partition) and one of
/// the consumer's `maxOutstanding` slots; past that bound the retry topics pause and jobs wait
/// a little longer, nothing is lost. A job is marked done once its jobs-topic copy is
/// acknowledged, so a crash in between re-queues it twice at worst, and the ledger's keying on
/// job id and derived event ids absorbs the copy.
public struct RetryRelay: Service {
    private let consumer: KafkaConsumer
    private let publisher: JobPublisher
    private let topics: TopicCatalog
    private let clock: WallClock
    private let logger: Logger
    /// Ends waiting jobs whose cancellation arrived; nil: cancellations are not read.
    private let canceller: JobCanceller?

    /// The longest a relay waits for one job, whatever its not-before says: a record from a
    /// wrong clock must not sit in a slot for years.
    static let maxWaitMs: Int64 = 24 * 3_600_000

    /// - Parameters:
    ///   - consumer: subscribed to `topics.allJobRetries` (group `sluice-retry`); the relay runs it.
    ///   - cancellations: filled by a ``ControlListener``: a waiting job cancelled meanwhile
    ///     ends `cancelled` instead of going back on its jobs topic.
    ///   - instance: names this process in audit events.
    public init(
        consumer: KafkaConsumer, producer: KafkaProducer, topics: TopicCatalog, clock: WallClock = .system, logger: Logger,
        cancellations: CancelledJobs? = nil, instance: String = "retry-relay"
    ) {
        self.consumer = consumer
        self.publisher = JobPublisher(producer: producer, topics: topics, logger: logger)
        self.topics = topics
        self.clock = clock
        self.logger = logger
        let publisher = self.publisher
        self.canceller = cancellations.map {
            JobCanceller(cancelled: $0, publisher: publisher, topics: topics, actor: instance, clock: clock, logger: logger)
        }
    }

    /// Relays until graceful shutdown; then every job still waiting is released (read again
    /// after restart) and the consumer commits what was relayed.
    public func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await consumer.run()
            }
            group.addTask {
                await withDiscardingTaskGroup { relays in
                    for await message in consumer.messages {
                        relays.addTask { await relay(message) }
                    }
                    // The consumer stopped handing out: stop waiting, give the rest back.
                    relays.cancelAll()
                }
            }
            try await group.waitForAll()
        }
        logger.info("retry relay stopped")
    }

    /// Sleeps until the job is due, in slices of at most a second so that a cancellation ends
    /// the wait early (the job is then ended as cancelled at once, not when it would be due).
    private func wait(ms waitMs: Int64, for job: JobEnvelope) async throws {
        let deadline = ContinuousClock.now + .milliseconds(waitMs)
        while ContinuousClock.now < deadline {
            if let canceller, canceller.isCancelled(job) { return }
            try await Task.sleep(for: min(.seconds(1), deadline - .now))
        }
    }

    private func relay(_ message: KafkaMessage) async {
        var job: JobEnvelope
        do {
            job = try Wire.decode(JobEnvelope.self, from: message.value)
        } catch {
            if await publisher.deadLetter(message, reason: "undecodable job envelope in a retry topic: \(error)") {
                consumer.markDone(message)
            } else {
                consumer.release(message)
            }
            return
        }
        let waitMs = min(max(0, (job.notBeforeMs ?? 0).subtractingReportingOverflow(clock.nowMs()).partialValue), Self.maxWaitMs)
        do {
            try await wait(ms: waitMs, for: job)
        } catch {
            consumer.release(message)
            return
        }
        if let canceller {
            await canceller.waitUntilReady()
            // The last attempt that started is the one before the attempt this copy would run.
            switch await canceller.cancelIfRequested(job, attempt: max(1, job.attempt - 1), startedAtMs: clock.nowMs()) {
            case nil: break
            case .finished:
                consumer.markDone(message)
                return
            case .abandoned:
                consumer.release(message)
                return
            }
        }
        job.notBeforeMs = nil
        let record = KafkaProducerMessage(topic: topics.jobs(job.priority), key: job.tenant, schema: JobEnvelope.schema, job: job, value: job)
        switch await publisher.send([record]) {
        case .sent:
            consumer.markDone(message)
        case .stopped:
            consumer.release(message)
        case .rejected(let error):
            if await publisher.deadLetter(message, reason: "Kafka refused the job's retry: \(error)") {
                consumer.markDone(message)
            } else {
                consumer.release(message)
            }
        }
    }
}
