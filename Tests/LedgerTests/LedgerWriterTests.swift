import Foundation
import Kafka
import Ledger
import Logging
import ServiceLifecycle
import SluiceCore
import Testing

/// The writer against the dev broker that `make test` starts (`SLUICE_TEST_BOOTSTRAP`).
///
/// Skipped, and reported as skipped, when no broker is configured: the store tests above cover
/// the ledger's logic without Kafka; these cover decoding, batching and offset hand-back.
@Suite(
    "LedgerWriter against the dev broker", .serialized, .timeLimit(.minutes(1)),
    .enabled(if: DevBroker.bootstrap != nil, "SLUICE_TEST_BOOTSTRAP is not set (run `make test`)"))
struct LedgerWriterTests {

    static let logger: Logger = {
        var logger = Logger(label: "sluice.ledger.tests")
        logger.logLevel = .critical
        return logger
    }()

    @Test("records reach the store once, malformed ones are counted and skipped, offsets are committed")
    func writesFromTopics() async throws {
        let bootstrap = try #require(DevBroker.bootstrap)
        let ledger = try TemporaryLedger()
        let topics = TopicCatalog(prefix: "ledger-\(UUIDv7.generate().suffix(8))")
        let group = "sluice-ledger-\(UUIDv7.generate().suffix(8))"
        // One partition each, so that a sentinel job seen in the store proves every earlier
        // record of both topics was handled.
        _ = try await KafkaAdmin.createTopics(
            [.init(name: topics.audit, partitions: 1), .init(name: topics.results, partitions: 1)],
            bootstrapServers: bootstrap)
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: bootstrap), logger: Self.logger)

        let ids = (0..<50).map { _ in UUIDv7.generate() }
        var records = ids.flatMap { [Fixture.accepted($0), Fixture.event(.started, $0, atMs: 1_500), Fixture.succeeded($0)] }
        records += records  // a redelivery, as an at-least-once producer may cause
        try await producer.send(try records.map { try Self.message($0, topics) })
        try await producer.send([
            KafkaProducerMessage(topic: topics.audit, key: nil, value: Array("not json".utf8)),
            KafkaProducerMessage(topic: topics.results, key: nil, value: Array(#"{"job_id": 1}"#.utf8)),
            // A batch's terminal event shares the results topic; the ledger skips it, unrejected.
            KafkaProducerMessage(
                topic: topics.results, key: Array("batch_1".utf8),
                value: Wire.encode(BatchEvent(batchID: "batch_1", tenant: Fixture.tenant, status: "completed", webhookURL: nil)),
                headers: [KafkaHeader(key: RecordHeader.schema, value: BatchEvent.schema)]),
        ])
        let sentinel = UUIDv7.generate()
        try await producer.send(try [Fixture.accepted(sentinel), Fixture.succeeded(sentinel)].map { try Self.message($0, topics) })

        let first = try Self.startWriter(ledger.store, topics: topics, group: group, bootstrap: bootstrap)
        try await Self.waitForJob(sentinel, in: ledger.store)
        try await first.stop()

        let counts = try ledger.store.counts()
        #expect(counts.jobs == 51)
        #expect(counts.results == 51)
        #expect(counts.auditEvents == 101)
        #expect(first.writer.malformedRecords == 2)
        #expect(try ledger.store.rejects().count == 2)
        #expect(try ledger.store.statusCounts(tenant: Fixture.tenant) == [.succeeded: 51])
        #expect(try await ledger.store.job(id: ids[9], tenant: Fixture.tenant)?.result == Fixture.response)

        // Same group again: committed offsets mean nothing old is read, malformed records included.
        let next = UUIDv7.generate()
        try await producer.send(try [Fixture.accepted(next), Fixture.succeeded(next)].map { try Self.message($0, topics) })
        let second = try Self.startWriter(ledger.store, topics: topics, group: group, bootstrap: bootstrap)
        try await Self.waitForJob(next, in: ledger.store)
        try await second.stop()
        #expect(second.writer.malformedRecords == 0)
        #expect(try ledger.store.counts().jobs == 52)
    }

    @Test("graceful shutdown mid-stream drains what was handed out; a restart loses nothing")
    func shutdownMidStream() async throws {
        let bootstrap = try #require(DevBroker.bootstrap)
        let ledger = try TemporaryLedger()
        let topics = TopicCatalog(prefix: "ledger-\(UUIDv7.generate().suffix(8))")
        let group = "sluice-ledger-\(UUIDv7.generate().suffix(8))"
        _ = try await KafkaAdmin.createTopics(
            [.init(name: topics.audit, partitions: 1), .init(name: topics.results, partitions: 1)],
            bootstrapServers: bootstrap)
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: bootstrap), logger: Self.logger)
        let ids = (0..<300).map { _ in UUIDv7.generate() } + [UUIDv7.generate()]
        try await producer.send(
            try ids.flatMap { [Fixture.accepted($0), Fixture.succeeded($0)] }.map { try Self.message($0, topics) })

        let first = try Self.startWriter(ledger.store, topics: topics, group: group, bootstrap: bootstrap)
        let deadline = ContinuousClock.now + .seconds(30)
        while try ledger.store.counts().jobs == 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        try await first.stop()  // throws if a batch in hand was abandoned

        let second = try Self.startWriter(ledger.store, topics: topics, group: group, bootstrap: bootstrap)
        try await Self.waitForJob(ids[ids.count - 1], in: ledger.store)
        try await second.stop()
        let counts = try ledger.store.counts()
        #expect(counts.jobs == ids.count)
        #expect(counts.results == ids.count)
        #expect(counts.auditEvents == ids.count)
    }

    @Test("a record the store refuses is set aside in ledger_rejects; its batch is stored and committed, not retried forever")
    func poisonRecord() async throws {
        let bootstrap = try #require(DevBroker.bootstrap)
        let ledger = try TemporaryLedger()
        try Poison.install(at: ledger.path)
        let topics = TopicCatalog(prefix: "ledger-\(UUIDv7.generate().suffix(8))")
        let group = "sluice-ledger-\(UUIDv7.generate().suffix(8))"
        _ = try await KafkaAdmin.createTopics(
            [.init(name: topics.audit, partitions: 1), .init(name: topics.results, partitions: 1)],
            bootstrapServers: bootstrap)
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: bootstrap), logger: Self.logger)

        let ids = (0..<10).map { _ in UUIDv7.generate() }
        var records = ids.flatMap { [Fixture.accepted($0), Fixture.succeeded($0)] }
        records.insert(Poison.record(jobID: ids[3]), at: 5)
        try await producer.send(try records.map { try Self.message($0, topics) })
        try await producer.send([KafkaProducerMessage(topic: topics.audit, key: nil, value: Array("not json".utf8))])
        let sentinel = UUIDv7.generate()
        try await producer.send(try [Fixture.accepted(sentinel), Fixture.succeeded(sentinel)].map { try Self.message($0, topics) })

        let first = try Self.startWriter(ledger.store, topics: topics, group: group, bootstrap: bootstrap)
        try await Self.waitForJob(sentinel, in: ledger.store)
        try await first.stop()
        #expect(first.writer.rejectedRecords == 1)
        #expect(first.writer.malformedRecords == 1)
        #expect(try ledger.store.counts().jobs == 11)
        #expect(try ledger.store.statusCounts(tenant: Fixture.tenant) == [.succeeded: 11])
        let rejects = try ledger.store.rejects()
        #expect(rejects.count == 2)
        #expect(rejects.allSatisfy { $0.topic == topics.audit })
        #expect(rejects.contains { $0.error.contains("poisoned record") && $0.offset == 3 })
        #expect(rejects.contains { $0.value == Array("not json".utf8) })

        // Same group again: the batch holding the poison record was committed.
        let next = UUIDv7.generate()
        try await producer.send(try [Fixture.accepted(next), Fixture.succeeded(next)].map { try Self.message($0, topics) })
        let second = try Self.startWriter(ledger.store, topics: topics, group: group, bootstrap: bootstrap)
        try await Self.waitForJob(next, in: ledger.store)
        try await second.stop()
        #expect(second.writer.rejectedRecords == 0)
        #expect(try ledger.store.rejects().count == 2)
    }

    // MARK: - Helpers

    private static func message(_ record: LedgerRecord, _ topics: TopicCatalog) throws -> KafkaProducerMessage {
        switch record {
        case .audit(let event):
            KafkaProducerMessage(
                topic: topics.audit, key: Array(event.tenant.utf8), value: Wire.encode(event),
                headers: [KafkaHeader(key: RecordHeader.schema, value: AuditEvent.schema)])
        case .result(let result):
            KafkaProducerMessage(
                topic: topics.results, key: Array(result.jobID.utf8), value: Wire.encode(result),
                headers: [KafkaHeader(key: RecordHeader.schema, value: ResultEnvelope.schema)])
        }
    }

    /// Runs a writer and its consumer the way the executable does: consumer registered first, so
    /// that graceful shutdown stops the writer first (it drains) and then the consumer.
    private static func startWriter(
        _ store: LedgerStore, topics: TopicCatalog, group: String, bootstrap: String
    ) throws -> RunningWriter {
        var configuration = KafkaConsumerConfiguration(
            bootstrapServers: bootstrap, groupID: group, topics: [topics.audit, topics.results])
        configuration.sessionTimeoutMs = 6_000
        configuration.heartbeatIntervalMs = 1_000
        configuration.autoCommitIntervalMs = 200
        configuration.maxOutstanding = 64
        let consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        let writer = LedgerWriter(
            store: store, consumer: consumer, topics: topics, configuration: LedgerConfiguration(batchSize: 32),
            logger: logger)
        return RunningWriter(writer: writer, consumer: consumer, logger: logger)
    }

    /// Waits until both records of the job are in the store: its result (status succeeded) and
    /// its job.accepted (metadata filled in), which come from different topics. The store has no
    /// change notifications, so this polls it.
    private static func waitForJob(_ id: String, in store: LedgerStore) async throws {
        let deadline = ContinuousClock.now + .seconds(45)
        while ContinuousClock.now < deadline {
            let job = try await store.job(id: id, tenant: Fixture.tenant)
            if job?.status == .succeeded, job?.metadata != nil { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("job \(id) did not reach the store in time")
    }
}

// MARK: - Running

/// Where the dev broker listens, if `make test` started one.
enum DevBroker {
    static let bootstrap = ProcessInfo.processInfo.environment["SLUICE_TEST_BOOTSTRAP"].flatMap { $0.isEmpty ? nil : $0 }
}

/// A writer and its consumer in one `ServiceGroup` that a test can shut down gracefully.
private final class RunningWriter: Sendable {
    let writer: LedgerWriter
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    init(writer: LedgerWriter, consumer: KafkaConsumer, logger: Logger) {
        self.writer = writer
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: consumer), .init(service: writer)], logger: logger))
        self.group = group
        task = Task { try await group.run() }
    }

    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }
}
