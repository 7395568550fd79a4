import Kafka
import Logging
import ServiceLifecycle
import SluiceCore
import Synchronization

/// Fills the ledger from `sluice.audit` and `sluice.results`.
///
/// Messages are gathered into batches (up to `batchSize`, or what arrived within ~20 ms of a
/// batch's first message) and each batch is written in one SQLite transaction on GRDB's writer
/// queue, off the cooperative thread pool. Only after the transaction commits (and, with
/// synchronous=FULL, is on disk) is every message of the batch marked done, so a crash at any
/// point means redelivery, which the store ignores: at-least-once from Kafka becomes
/// effectively-once in the ledger. A record the store can never write (undecodable, or refused
/// for its own content) is set aside in `ledger_rejects` with its position and bytes instead of
/// holding up its batch forever.
///
/// - Important: The consumer's `run()` is not called here: add the consumer to the same
///   `ServiceGroup`, registered *before* this writer. Services stop in reverse order, so at
///   graceful shutdown the writer stops taking messages, writes and marks done everything it
///   was handed, and returns; the consumer then finds nothing outstanding and commits at once.
///   Give the consumer a `maxOutstanding` of at least `batchSize`, or batches never fill and
///   each one waits out the ~20 ms linger.
public final class LedgerWriter: Service, Sendable {
    private let store: LedgerStore
    private let consumer: KafkaConsumer
    private let topics: TopicCatalog
    private let batchSize: Int
    private let signer: AuditSigner?
    private let checkpointPolicy: LedgerStore.CheckpointPolicy
    private let logger: Logger
    private let malformed = Atomic<Int>(0)
    private let rejected = Atomic<Int>(0)

    /// How long a batch waits for more messages after its first one.
    static let linger: Duration = .milliseconds(20)
    /// First and longest wait between attempts of a failing write.
    static let retryBackoff = Backoff(baseMs: 100, capMs: 5_000)

    /// - Parameters:
    ///   - store: Where the records go.
    ///   - consumer: A consumer of `topics.audit` and `topics.results` in group `sluice-ledger`,
    ///     run by the caller's `ServiceGroup`.
    ///   - topics: Tells the audit topic from the results topic.
    ///   - configuration: `batchSize` bounds the records of one transaction; the checkpoint
    ///     settings say when to sign one.
    ///   - signer: Signs audit checkpoints; nil writes none (the chain is kept either way).
    ///   - logger: Malformed records and failing writes are reported here.
    public init(
        store: LedgerStore, consumer: KafkaConsumer, topics: TopicCatalog, configuration: LedgerConfiguration,
        signer: AuditSigner? = nil, logger: Logger
    ) {
        self.store = store
        self.consumer = consumer
        self.topics = topics
        self.batchSize = max(1, configuration.batchSize)
        self.signer = signer
        self.checkpointPolicy = LedgerStore.CheckpointPolicy(
            intervalMs: Int64(clamping: configuration.checkpointIntervalSeconds).multipliedReportingOverflow(by: 1_000).partialValue,
            everyEvents: Int64(clamping: max(1, configuration.checkpointEveryEvents)))
        self.logger = logger
    }

    /// How often the writer looks whether a checkpoint is due.
    static let checkpointTick: Duration = .seconds(1)

    /// Records that could not be decoded (or came from a topic this writer does not read) and
    /// were set aside in `ledger_rejects`. Each is logged with its topic, partition and offset.
    public var malformedRecords: Int { malformed.load(ordering: .relaxed) }

    /// Decoded records the store refused for their own content (a violated constraint, a
    /// value it cannot hold) and set aside in `ledger_rejects` so that the rest of their batch
    /// could be written. Each is logged with its topic, partition, offset and error.
    public var rejectedRecords: Int { rejected.load(ordering: .relaxed) }

    // MARK: - Service

    /// Reads `messages` until graceful shutdown (or until the consumer ends them), writing batch
    /// after batch, then drains what it was handed.
    ///
    /// - Throws: `CancellationError` when cancelled; the write error if graceful shutdown comes
    ///   while a batch cannot be written (its messages are then left for redelivery).
    public func run() async throws {
        let batcher = MessageBatcher<KafkaMessage>()
        // Each child says whether it is one of the two that carry messages (true) or the
        // checkpoint ticker (false), which runs only as long as they do.
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                // Only taking new messages stops at graceful shutdown (a cancelled `next()` returns
                // nil); the pump itself ends the input, so nothing it appended is missed.
                await cancelWhenGracefulShutdown {
                    for await message in self.consumer.messages {
                        batcher.append(message)
                    }
                }
                batcher.finish()
                return true
            }
            group.addTask {
                while let batch = await batcher.nextBatch(maxCount: self.batchSize, linger: Self.linger) {
                    try await self.write(batch)
                }
                try Task.checkCancellation()
                return true
            }
            if let signer {
                group.addTask {
                    while !Task.isCancelled {
                        do {
                            try await Task.sleep(for: Self.checkpointTick)
                        } catch {
                            break
                        }
                        await self.checkpoint(signer: signer, policy: self.checkpointPolicy)
                    }
                    return false
                }
            }
            // The pump ends first at graceful shutdown and the taker then drains, so wait for both;
            // an error of either leaves the body, which cancels the rest.
            var carrying = 2
            while carrying > 0, let carried = try await group.next() {
                if carried { carrying -= 1 }
            }
            group.cancelAll()
        }
        // Everything handed over is written: sign it, so a restart does not leave it unsigned.
        if let signer { await checkpoint(signer: signer, policy: .always) }
        logger.info(
            "ledger writer stopped",
            metadata: ["malformed_records": "\(malformedRecords)", "rejected_records": "\(rejectedRecords)"])
    }

    // MARK: - Checkpoints

    /// Writes a checkpoint when one is due. A failure is logged, not thrown: the events stay
    /// chained and the next tick tries again.
    private func checkpoint(signer: AuditSigner, policy: LedgerStore.CheckpointPolicy) async {
        do {
            if let checkpoint = try await store.checkpointIfDue(signer: signer, policy: policy) {
                logger.debug(
                    "audit checkpoint signed",
                    metadata: ["seq": "\(checkpoint.seq)", "events": "\(checkpoint.eventCount)", "key_id": "\(checkpoint.keyID)"])
            }
        } catch {
            logger.warning("audit checkpoint failed; trying again later", metadata: ["error": "\(error)"])
        }
    }

    // MARK: - Batches

    /// Decodes, stores and marks done one batch. Returns only once the batch is durable.
    private func write(_ batch: [KafkaMessage]) async throws {
        var entries: [LedgerEntry] = []
        var malformed: [LedgerReject] = []
        entries.reserveCapacity(batch.count)
        for message in batch {
            // Other schemas share the results topic (`batch.v1`, the batch finalizer's terminal
            // events, for the webhook workers): they are not the ledger's to store.
            if message.topic == topics.results, let schema = message.header(RecordHeader.schema), schema != ResultEnvelope.schema {
                continue
            }
            switch decode(message) {
            case .record(let record):
                entries.append(
                    LedgerEntry(
                        record: record, topic: message.topic, partition: message.partition, offset: message.offset,
                        value: message.value))
            case .reject(let reject):
                malformed.append(reject)
            }
        }
        let started = ContinuousClock.now
        let spanStart = FinishedSpan.nowUnixNanos()
        let rejected = try await applyRetrying(entries, malformed: malformed)
        if SpanRecorder.isEnabled { recordSpans(batch, startedAt: spanStart) }
        LedgerMetrics.written(entries, setAside: rejected.count + malformed.count, elapsed: ContinuousClock.now - started)
        if logger.logLevel <= .debug { logRecorded(batch) }
        for reject in rejected {
            self.rejected.add(1, ordering: .relaxed)
            logger.error(
                "ledger record refused by the store; set aside in ledger_rejects",
                metadata: [
                    "topic": "\(reject.topic)", "partition": "\(reject.partition)", "offset": "\(reject.offset)",
                    "error": "\(reject.error)",
                ])
        }
        for message in batch {
            consumer.markDone(message)
        }
    }

    /// One debug line per result written, with the job's trace id from the record's
    /// `traceparent` header: the ledger's end of the trace that began at ingress.
    private func logRecorded(_ batch: [KafkaMessage]) {
        for message in batch where message.topic == topics.results {
            var metadata: Logger.Metadata = [
                "job_id": "\(message.header(RecordHeader.jobID) ?? "")", "tenant": "\(message.header(RecordHeader.tenant) ?? "")",
                "partition": "\(message.partition)", "offset": "\(message.offset)",
            ]
            if let trace = TraceContext.traceID(of: message.header(RecordHeader.traceparent)) { metadata["trace_id"] = "\(trace)" }
            logger.debug("result recorded", metadata: metadata)
        }
    }

    /// One `sluice.ledger.record` span per result written (consumer), a child of the span its
    /// record carries: the batch's write, as seen by each job.
    private func recordSpans(_ batch: [KafkaMessage], startedAt: UInt64) {
        let end = FinishedSpan.nowUnixNanos()
        for message in batch where message.topic == topics.results {
            guard let parent = message.header(RecordHeader.traceparent).flatMap(TraceContext.init(traceparent:)) else { continue }
            SpanRecorder.record(FinishedSpan(
                name: "sluice.ledger.record", context: parent.child(), parentSpanID: parent.spanID, kind: .consumer,
                startUnixNanos: startedAt, endUnixNanos: end,
                attributes: [
                    "sluice.job_id": message.header(RecordHeader.jobID) ?? "", "sluice.tenant": message.header(RecordHeader.tenant) ?? "",
                    "messaging.kafka.offset": String(message.offset),
                ]))
        }
    }

    private enum Decoded {
        case record(LedgerRecord)
        case reject(LedgerReject)
    }

    /// The record a message carries or, when it carries none, the reject to store (logged and
    /// counted here).
    private func decode(_ message: KafkaMessage) -> Decoded {
        do {
            return .record(try Self.record(of: message, topics: topics))
        } catch {
            malformed.add(1, ordering: .relaxed)
            logger.error(
                "malformed ledger record; set aside in ledger_rejects",
                metadata: [
                    "topic": "\(message.topic)", "partition": "\(message.partition)", "offset": "\(message.offset)",
                    "schema": "\(message.header(RecordHeader.schema) ?? "")", "error": "\(error)",
                ])
            return .reject(
                LedgerReject(
                    topic: message.topic, partition: message.partition, offset: message.offset, value: message.value,
                    error: "malformed (schema \(message.header(RecordHeader.schema) ?? "none")): \(error)",
                    atMs: store.clock.nowMs()))
        }
    }

    /// The record a message of the audit or results topic carries.
    ///
    /// - Throws: when it does not decode, or comes from another topic.
    static func record(of message: KafkaMessage, topics: TopicCatalog) throws -> LedgerRecord {
        switch message.topic {
        case topics.audit:
            return .audit(try Wire.decode(AuditEvent.self, from: message.value))
        case topics.results:
            return .result(try Wire.decode(ResultEnvelope.self, from: message.value))
        default:
            throw LedgerError(code: .encoding, message: "not a topic the ledger reads")
        }
    }

    /// Writes until it succeeds. A record the store refuses for its own content is set aside
    /// by the store and returned; any other failure (a full disk, a locked or corrupt file) is
    /// waited out rather than skipped, because skipping would mark records done that the ledger
    /// never stored.
    private func applyRetrying(_ entries: [LedgerEntry], malformed: [LedgerReject]) async throws -> [LedgerReject] {
        var failures = 0
        while true {
            do {
                let rejected = try await store.applyOffPool(entries, rejecting: malformed)
                if failures > 0 {
                    logger.notice("ledger write recovered", metadata: ["failed_attempts": "\(failures)"])
                }
                return rejected
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                failures += 1
                let delayMs = Self.retryBackoff.delayMs(retry: failures)
                let retriable = (error as? LedgerError)?.isRetriable ?? false
                logger.log(
                    level: retriable ? .warning : .error, "ledger write failed; retrying",
                    metadata: [
                        "records": "\(entries.count + malformed.count)", "attempt": "\(failures)",
                        "retry_in_ms": "\(delayMs)", "error": "\(error)",
                    ])
                // At shutdown nothing is gained by waiting: the records are redelivered next time.
                if Task.isShuttingDownGracefully { throw error }
                try await Task.sleep(for: .milliseconds(delayMs))
            }
        }
    }
}
