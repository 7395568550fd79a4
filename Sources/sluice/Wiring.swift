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

    /// The ledger file: read-write (creating and migrating it, and the master key when
    /// payloads are encrypted) or read-only for processes that only read it.
    func ledgerStore(readOnly: Bool = false) throws -> LedgerStore {
        let ledger = configuration.ledger
        let cipher = ledger.encryptPayloads
            ? try KeyFiles.payloadCipher(path: ledger.resolvedMasterKeyFile, create: !readOnly, logger: logger) : nil
        return readOnly ? try LedgerStore(readOnlyPath: ledger.path, cipher: cipher) : try LedgerStore(path: ledger.path, cipher: cipher)
    }

    /// Names this process in audit events.
    static let instance = "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"

    /// - Parameter messageTimeoutMs: how long a record may wait for the broker; default
    ///   `ingress.produce_timeout_ms`.
    func producer(messageTimeoutMs: Int? = nil) throws -> KafkaProducer {
        var c = KafkaProducerConfiguration(bootstrapServers: configuration.kafka.bootstrapServers)
        c.clientID = "sluice-\(Self.instance)"
        // A produce that cannot reach a broker fails in time for ingress to answer 503 within 5 s;
        // workers retry their publishes, so the same bound is safe for them.
        c.messageTimeoutMs = messageTimeoutMs ?? configuration.ingress.produceTimeoutMs
        c.recoversFromLostBrokerState = configuration.kafka.devBroker
        c.additionalProperties = ["message.max.bytes": "4194304"].merging(configuration.kafka.properties) { _, new in new }
        return try KafkaProducer(configuration: c, logger: logger)
    }

    /// - Parameter onJobPath: whether a job waits for this consumer on its way to a result
    ///   (see ``jobPathReaderProperties``).
    func consumer(
        group: String, topics: [String], maxOutstanding: Int, drainTimeoutMs: Int? = nil, onJobPath: Bool = false
    ) throws -> KafkaConsumer {
        var c = KafkaConsumerConfiguration(bootstrapServers: configuration.kafka.bootstrapServers, groupID: group, topics: topics)
        c.clientID = "sluice-\(Self.instance)"
        c.sessionTimeoutMs = configuration.kafka.sessionTimeoutMs
        c.heartbeatIntervalMs = configuration.kafka.heartbeatIntervalMs
        c.maxOutstanding = maxOutstanding
        if let drainTimeoutMs { c.drainTimeoutMs = drainTimeoutMs }
        c.additionalProperties = onJobPath ? jobPathReaderProperties : readerProperties
        return try KafkaConsumer(configuration: c, logger: logger)
    }

    /// librdkafka settings of the readers a job waits for on its way to a result: the workers'
    /// job consumer, the ledger's consumer (which makes the result visible) and the reader
    /// that wakes synchronous completions.
    ///
    /// librdkafka's default fetch wait (500 ms) sat in each of those hops: with it a
    /// synchronous completion over a 50 ms stub took 254 ms at p50 and 64 connections got 240
    /// answers/s; with 50 ms, 141 ms and 438/s (scripts/bench-sync, dev broker). The short wait
    /// is not free: each idle reader then fetches 20 times a second, and the dev broker spent
    /// 22.5-23.7 % of a core answering one idle `serve` whose readers all waited 50 ms, against
    /// 4.3-4.9 % with 500 ms (`scripts/bench idle`; BENCHMARKS.md, "Idle fetches"). So only these
    /// readers wait 50 ms.
    /// `kafka.properties` wins.
    var jobPathReaderProperties: [String: String] {
        ["fetch.wait.max.ms": "50"].merging(configuration.kafka.properties) { _, new in new }
    }

    /// librdkafka settings of every other reader (retry relay, control, webhooks, the ledger's
    /// copy of job requests, DLQ and batch-resume readers): librdkafka's defaults, where a
    /// message waits up to 500 ms for its fetch, under `kafka.properties`.
    var readerProperties: [String: String] { configuration.kafka.properties }

    /// The cancelled jobs one worker process knows, shared by its pool, relay and listener.
    func cancellations() -> CancelledJobs {
        CancelledJobs(configuration: configuration.cancellation)
    }

    /// Reads every cancellation from `sluice.control` (no consumer group: see ``ControlListener``).
    func controlListener(_ cancellations: CancelledJobs) throws -> ControlListener {
        var c = KafkaTopicReader.Configuration(bootstrapServers: configuration.kafka.bootstrapServers, topics: [topics.control])
        c.clientID = "sluice-\(Self.instance)"
        c.groupID = "\(topics.prefix)-control-reader"
        c.additionalProperties = readerProperties
        return ControlListener(reader: try KafkaTopicReader(configuration: c, logger: logger), cancelled: cancellations, logger: logger)
    }

    /// Reads `sluice.control` from its end for an ingress's key revocations and tenant changes
    /// (no consumer group: every ingress must see every event; see `TenancyControlListener`).
    func tenancyControlReader() throws -> KafkaTopicReader {
        var c = KafkaTopicReader.Configuration(bootstrapServers: configuration.kafka.bootstrapServers, topics: [topics.control])
        c.clientID = "sluice-\(Self.instance)"
        c.groupID = "\(topics.prefix)-ingress-control-reader"
        c.startsAtEnd = true
        c.additionalProperties = readerProperties
        return try KafkaTopicReader(configuration: c, logger: logger)
    }

    /// The `sluice dlq` tools' view of the DLQ.
    func deadLetterQueue() -> DeadLetterQueue {
        var c = KafkaTopicReader.Configuration(bootstrapServers: configuration.kafka.bootstrapServers, topics: [])
        c.clientID = "sluice-\(Self.instance)"
        c.groupID = "\(topics.prefix)-dlq-reader"
        c.additionalProperties = readerProperties
        return DeadLetterQueue(reader: c, topics: topics, logger: logger)
    }

    func workerPool(producer: KafkaProducer, cancellations: CancelledJobs? = nil) throws -> LLMWorkerPool {
        let w = configuration.workers
        // The consumer waits for the pool's shutdown grace (and the last publishes after it)
        // before it commits and leaves.
        let jobs = try consumer(
            group: topics.workersGroup, topics: topics.allJobs, maxOutstanding: w.maxInFlight,
            drainTimeoutMs: w.shutdownGraceMs + 15_000, onJobPath: true)
        operations.addConsumer(jobs, name: "workers", group: topics.workersGroup)
        let pool = LLMWorkerPool(
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
        operations.addWorkerPool(pool)
        return pool
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
            maxOutstanding: configuration.ledger.batchSize * 4, onJobPath: true
        )
        operations.addLedgerCheck(store, writable: true)
        operations.addConsumer(consumer, name: "ledger-consumer", group: topics.ledgerGroup, checked: false)
        let signer = try KeyFiles.auditSigner(path: configuration.ledger.resolvedSigningKeyFile, logger: logger)
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
            RetentionSweeper(
                store: store, policy: retentionPolicy, interval: .seconds(configuration.ledger.retentionCheckSeconds), logger: logger),
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
    func batchService(producer: KafkaProducer, store: any BatchStore) throws -> BatchService {
        BatchService(
            store: store, enqueuer: JobEnqueuer(producer: producer, topics: topics, actor: "ingress:\(Self.instance)"),
            configuration: configuration.batches, directory: filesDirectory, redaction: try redaction(),
            finder: QueuedJobFinder(reader: queuedJobReader, logger: logger), logger: logger)
    }

    /// The waiters of synchronous completions and the listener that wakes them (add the
    /// listener to the group before the ingress).
    func syncResults() -> (waiters: SyncResultWaiters, listener: SyncResultListener) {
        var c = KafkaTopicReader.Configuration(bootstrapServers: configuration.kafka.bootstrapServers, topics: [topics.results])
        c.clientID = "sluice-\(Self.instance)"
        c.groupID = "\(topics.prefix)-sync-results-reader"
        // Waiting requests are woken by what this reads: it is on the job's path.
        c.additionalProperties = jobPathReaderProperties
        let waiters = SyncResultWaiters()
        return (waiters, SyncResultListener(reader: c, waiters: waiters, logger: logger))
    }

    /// Connection settings of the reader that finds a resumed batch's queued jobs.
    var queuedJobReader: KafkaTopicReader.Configuration {
        var c = KafkaTopicReader.Configuration(bootstrapServers: configuration.kafka.bootstrapServers, topics: [])
        c.clientID = "sluice-\(Self.instance)"
        c.groupID = "\(topics.prefix)-batch-resume-reader"
        c.additionalProperties = readerProperties
        return c
    }


    var retentionPolicy: RetentionPolicy {
        let days = configuration.ledger.retentionPolicyDays
        return RetentionPolicy(defaultDays: days.defaultDays, tenantDays: days.tenantDays)
    }

    /// - Parameters:
    ///   - tenancy: the ledger's tenants and keys (writable: the admin API and token counts
    ///     write there).
    ///   - board: serves the status page (`/`, `/v1/status`) when given.
    ///   - batches: serves files and batches when given.
    func ingress(
        producer: KafkaProducer, jobs: any JobLookup & AuditReader & WebhookRegistry, tenancy: (any TenantDirectory)?, board: StatusBoard? = nil,
        batches: BatchService? = nil, syncWaiters: SyncResultWaiters? = nil
    ) throws -> IngressService {
        try operations.addBrokerCheck(self)
        var ingressOperations = IngressOperations(readiness: operations.readiness, metrics: { [operations] in operations.metricsText() })
        if let board {
            ingressOperations.status = { await board.snapshot() }
            ingressOperations.replayDeadLetters = { actor in try await board.replayDeadLetters(actor: actor) }
        }
        var service = try IngressService(
            configuration: configuration.ingress, tenants: configuration.tenants, models: Set(configuration.routes.keys),
            enqueuer: JobEnqueuer(producer: producer, topics: topics, actor: "ingress:\(Self.instance)"),
            jobs: jobs, logger: logger, operations: ingressOperations, directory: tenancy
        )
        service.audit = jobs
        service.redaction = try redaction()
        // Endpoints are written through a connection that can write: the ledger store in
        // `serve`, the writable tenancy connection in `sluice ingress` (whose `jobs` is read-only).
        service.webhooks = webhookIngressSettings(producer: producer, registry: (tenancy as? any WebhookRegistry) ?? jobs)
        service.batches = batches
        // Only the ledger's keys and tenant rows change at runtime.
        if tenancy != nil { service.control = try tenancyControlReader() }
        service.syncWaiters = syncWaiters
        return service
    }

    // MARK: - Webhooks

    func webhookPolicy() -> WebhookURLPolicy {
        WebhookURLPolicy(rules: configuration.webhooks.allowRules)
    }

    func webhookIngressSettings(producer: KafkaProducer, registry: (any WebhookRegistry)?) -> WebhookIngressSettings {
        let signing = Set(configuration.webhooks.tenants.filter { !$0.value.secrets.isEmpty }.keys)
        return WebhookIngressSettings(policy: webhookPolicy(), signingTenants: signing, registry: registry, producer: producer, topics: topics)
    }

    /// The webhook worker pool: results and webhook retry topics in group `sluice-webhooks`.
    ///
    /// - Parameter registered: the ledger's registered endpoints (read-only is enough).
    func webhookDispatcher(producer: KafkaProducer, registered: (any WebhookEndpointDirectory)?) throws -> WebhookDispatcher {
        let w = configuration.webhooks
        let consumer = try consumer(
            group: topics.webhooksGroup, topics: [topics.results] + topics.allWebhookRetries, maxOutstanding: w.maxInFlight)
        operations.addConsumer(consumer, name: "webhooks", group: topics.webhooksGroup)
        return WebhookDispatcher(
            configuration: w, consumer: consumer, producer: producer, topics: topics,
            http: try CurlHTTPClient(configuration: .init(connectTimeoutMs: min(w.timeoutMs, 10_000), maxResponseBytes: 64 * 1_024)),
            policy: webhookPolicy(), endpoints: ConfiguredWebhookEndpoints(configuration: w, registered: registered),
            logger: logger, instance: "webhooks:\(Self.instance)")
    }
}
