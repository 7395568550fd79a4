import Foundation
import Ingress
import Kafka
import Ledger
import Logging
import ServiceLifecycle
import SluiceCore
import SluiceHTTP
import Workers

/// Builds the components from one configuration, the same way for `serve` and for the
/// single-role commands.
struct Wiring {
    let configuration: SluiceConfiguration
    let logger: Logger
    /// Readiness checks and metrics samplers of this process, added by the builders below.
    let operations = ProcessOperations()

    var topics: TopicCatalog { configuration.kafka.topics }

    /// Names this process in audit events.
    static let instance = "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"

    func producer() throws -> KafkaProducer {
        var c = KafkaProducerConfiguration(bootstrapServers: configuration.kafka.bootstrapServers)
        c.clientID = "sluice-\(Self.instance)"
        // A produce that cannot reach a broker fails in time for ingress to answer 503 within 5 s;
        // workers retry their publishes, so the same bound is safe for them.
        c.messageTimeoutMs = configuration.ingress.produceTimeoutMs
        c.recoversFromLostBrokerState = configuration.kafka.devBroker
        c.additionalProperties = ["message.max.bytes": "4194304"].merging(configuration.kafka.properties) { _, new in new }
        return try KafkaProducer(configuration: c, logger: logger)
    }

    func consumer(group: String, topics: [String], maxOutstanding: Int, drainTimeoutMs: Int? = nil) throws -> KafkaConsumer {
        var c = KafkaConsumerConfiguration(bootstrapServers: configuration.kafka.bootstrapServers, groupID: group, topics: topics)
        c.clientID = "sluice-\(Self.instance)"
        c.sessionTimeoutMs = configuration.kafka.sessionTimeoutMs
        c.heartbeatIntervalMs = configuration.kafka.heartbeatIntervalMs
        c.maxOutstanding = maxOutstanding
        if let drainTimeoutMs { c.drainTimeoutMs = drainTimeoutMs }
        c.additionalProperties = configuration.kafka.properties
        return try KafkaConsumer(configuration: c, logger: logger)
    }

    /// The cancelled jobs one worker process knows, shared by its pool, relay and listener.
    func cancellations() -> CancelledJobs {
        CancelledJobs(configuration: configuration.cancellation)
    }

    /// Reads every cancellation from `sluice.control` (no consumer group: see ``ControlListener``).
    func controlListener(_ cancellations: CancelledJobs) throws -> ControlListener {
        var c = KafkaTopicReader.Configuration(bootstrapServers: configuration.kafka.bootstrapServers, topics: [topics.control])
        c.clientID = "sluice-\(Self.instance)"
        c.groupID = "\(topics.prefix)-control-reader"
        c.additionalProperties = configuration.kafka.properties
        return ControlListener(reader: try KafkaTopicReader(configuration: c, logger: logger), cancelled: cancellations, logger: logger)
    }

    /// The `sluice dlq` tools' view of the DLQ.
    func deadLetterQueue() -> DeadLetterQueue {
        var c = KafkaTopicReader.Configuration(bootstrapServers: configuration.kafka.bootstrapServers, topics: [])
        c.clientID = "sluice-\(Self.instance)"
        c.groupID = "\(topics.prefix)-dlq-reader"
        c.additionalProperties = configuration.kafka.properties
        return DeadLetterQueue(reader: c, topics: topics, logger: logger)
    }

    func workerPool(producer: KafkaProducer, cancellations: CancelledJobs? = nil) throws -> LLMWorkerPool {
        let w = configuration.workers
        // The consumer waits for the pool's shutdown grace (and the last publishes after it)
        // before it commits and leaves.
        let jobs = try consumer(
            group: topics.workersGroup, topics: topics.allJobs, maxOutstanding: w.maxInFlight,
            drainTimeoutMs: w.shutdownGraceMs + 15_000)
        operations.addConsumer(jobs, name: "workers", group: topics.workersGroup)
        return LLMWorkerPool(
            configuration: w,
            consumer: jobs,
            producer: producer, topics: topics,
            router: try ProviderRouter(
                routes: configuration.routes,
                providers: configuration.providers.map { provider in
                    try provider.resolvingKeyFile { path in try String(contentsOfFile: path, encoding: .utf8) }
                },
                environment: ProcessInfo.processInfo.environment,
                pricing: configuration.pricing, currency: configuration.pricingCurrency
            ),
            http: try CurlHTTPClient(configuration: .init(connectTimeoutMs: w.connectTimeoutMs, maxResponseBytes: w.maxResponseBytes)),
            instance: "worker:\(Self.instance)", logger: logger, cancellations: cancellations
        )
    }

    /// Re-queues jobs from the retry topics when they are due.
    func retryRelay(producer: KafkaProducer, cancellations: CancelledJobs? = nil) throws -> RetryRelay {
        RetryRelay(
            consumer: try consumer(group: topics.retryGroup, topics: topics.allJobRetries, maxOutstanding: configuration.workers.retryMaxWaiting),
            producer: producer, topics: topics, logger: logger, cancellations: cancellations, instance: "relay:\(Self.instance)")
    }

    /// The worker side of a process, in ServiceGroup order: the control listener stops last of
    /// them, so that jobs finishing at shutdown still see cancellations.
    func workerServices(producer: KafkaProducer) throws -> [any Service] {
        let cancellations = cancellations()
        return [
            try controlListener(cancellations), try retryRelay(producer: producer, cancellations: cancellations),
            try workerPool(producer: producer, cancellations: cancellations),
        ]
    }

    /// The ledger's consumer and writer, in ServiceGroup order: the writer stops first (writing
    /// and marking done what it holds), then the consumer commits and leaves the group.
    func ledger(store: LedgerStore, producer: KafkaProducer? = nil) throws -> [any Service] {
        let consumer = try consumer(
            group: topics.ledgerGroup, topics: [topics.audit, topics.results],
            maxOutstanding: configuration.ledger.batchSize * 4
        )
        operations.addLedgerCheck(store, writable: true)
        let signer = try AuditKeyFile.loadOrCreate(path: configuration.ledger.resolvedSigningKeyFile, logger: logger)
        try store.registerSigningKey(signer)
        // The job records, kept until their results arrive, for `sluice jobs requeue`.
        let requests = try self.consumer(
            group: "\(topics.ledgerGroup)-requests", topics: topics.allJobs, maxOutstanding: configuration.ledger.batchSize * 4)
        return [
            consumer,
            LedgerWriter(
                store: store, consumer: consumer, topics: topics, configuration: configuration.ledger, signer: signer,
                logger: logger),
            requests, JobRequestKeeper(store: store, consumer: requests, configuration: configuration.ledger, logger: logger),
            BatchFinalizer(
                store: store, producer: producer, topics: topics, configuration: configuration.batches, directory: filesDirectory,
                logger: logger),
        ]
    }

    /// Where uploaded and result files live (`batches.files_directory`).
    var filesDirectory: String {
        configuration.batches.resolvedFilesDirectory(ledgerPath: configuration.ledger.path)
    }

    /// Ingests and cancels batches for the HTTP API; add it to the group before the ingress.
    func batchService(producer: KafkaProducer, store: any BatchStore) -> BatchService {
        BatchService(
            store: store, enqueuer: JobEnqueuer(producer: producer, topics: topics, actor: "ingress:\(Self.instance)"),
            configuration: configuration.batches, directory: filesDirectory, logger: logger)
    }

    func ingress(producer: KafkaProducer, jobs: any JobLookup & AuditReader, batches: BatchService? = nil) throws -> IngressService {
        try operations.addBrokerCheck(self)
        var service = try IngressService(
            configuration: configuration.ingress, tenants: configuration.tenants, models: Set(configuration.routes.keys),
            enqueuer: JobEnqueuer(producer: producer, topics: topics, actor: "ingress:\(Self.instance)"),
            jobs: jobs, logger: logger,
            operations: IngressOperations(readiness: operations.readiness, metrics: { [operations] in operations.metricsText() })
        )
        service.audit = jobs
        service.batches = batches
        return service
    }
}
