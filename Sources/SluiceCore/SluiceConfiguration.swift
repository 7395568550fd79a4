/// Everything one Sluice process is configured with: the parsed `sluice.yaml`.
///
/// Libraries receive the part they need; only the executable reads files and environment
/// variables (`SLUICE_<SECTION>_<KEY>` overrides `<section>.<key>`). Every field has a default so
/// that a config file only names what differs.
public struct SluiceConfiguration: Sendable, Decodable {
    public var kafka: BrokerConfiguration
    public var ingress: IngressConfiguration
    public var workers: WorkerConfiguration
    public var ledger: LedgerConfiguration
    public var tenants: [TenantConfiguration]
    public var providers: [ProviderConfiguration]
    /// Model name a client asks for → where it is served. Default: none (every model is rejected).
    public var routes: [String: RouteConfiguration]
    /// Model name → its price per million input and output tokens, for each job's cost. Keyed
    /// by the provider's (upstream) model name or by the client-facing name; when both have an
    /// entry, the upstream name wins, because that is what the provider bills. Default: none
    /// (results carry usage but no cost).
    public var pricing: [String: PriceConfiguration]
    /// The currency of `pricing`, copied onto every result's cost. Default: `USD`.
    public var pricingCurrency: String
    /// How workers remember cancelled jobs. Default: see ``CancellationConfiguration``.
    public var cancellation = CancellationConfiguration()
    /// Log line format. Default: see ``LoggingConfiguration``.
    public var logging = LoggingConfiguration()
    /// Span export. Default: none (see ``TracingConfiguration``).
    public var tracing = TracingConfiguration()
    /// PII redaction at the ingress. Default: none (nothing redacted); see ``RedactionConfiguration``.
    public var redaction: RedactionConfiguration?
    /// Signed callbacks: URL policy, retry schedule, tenants' endpoints and secrets. Default:
    /// see ``WebhooksConfiguration``.
    public var webhooks = WebhooksConfiguration()
    /// Files and batches. Default: see ``BatchesConfiguration``.
    public var batches = BatchesConfiguration()

    public init(
        kafka: BrokerConfiguration = .init(), ingress: IngressConfiguration = .init(),
        workers: WorkerConfiguration = .init(), ledger: LedgerConfiguration = .init(),
        tenants: [TenantConfiguration] = [], providers: [ProviderConfiguration] = [],
        routes: [String: RouteConfiguration] = [:], pricing: [String: PriceConfiguration] = [:],
        pricingCurrency: String = "USD"
    ) {
        self.kafka = kafka
        self.ingress = ingress
        self.workers = workers
        self.ledger = ledger
        self.tenants = tenants
        self.providers = providers
        self.routes = routes
        self.pricing = pricing
        self.pricingCurrency = pricingCurrency
    }

    enum CodingKeys: String, CodingKey {
        case kafka, ingress, workers, ledger, tenants, providers, routes, pricing, pricingCurrency = "pricing_currency", cancellation
        case logging, tracing, redaction, webhooks, batches
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kafka = try c.decodeIfPresent(BrokerConfiguration.self, forKey: .kafka) ?? .init()
        ingress = try c.decodeIfPresent(IngressConfiguration.self, forKey: .ingress) ?? .init()
        workers = try c.decodeIfPresent(WorkerConfiguration.self, forKey: .workers) ?? .init()
        ledger = try c.decodeIfPresent(LedgerConfiguration.self, forKey: .ledger) ?? .init()
        tenants = try c.decodeIfPresent([TenantConfiguration].self, forKey: .tenants) ?? []
        providers = try c.decodeIfPresent([ProviderConfiguration].self, forKey: .providers) ?? []
        routes = try c.decodeIfPresent([String: RouteConfiguration].self, forKey: .routes) ?? [:]
        pricing = try c.decodeIfPresent([String: PriceConfiguration].self, forKey: .pricing) ?? [:]
        pricingCurrency = try c.decodeIfPresent(String.self, forKey: .pricingCurrency) ?? "USD"
        cancellation = try c.decodeIfPresent(CancellationConfiguration.self, forKey: .cancellation) ?? .init()
        logging = try c.decodeIfPresent(LoggingConfiguration.self, forKey: .logging) ?? .init()
        tracing = try c.decodeIfPresent(TracingConfiguration.self, forKey: .tracing) ?? .init()
        redaction = try c.decodeIfPresent(RedactionConfiguration.self, forKey: .redaction)
        webhooks = try c.decodeIfPresent(WebhooksConfiguration.self, forKey: .webhooks) ?? .init()
        batches = try c.decodeIfPresent(BatchesConfiguration.self, forKey: .batches) ?? .init()
    }

    /// Problems a human must fix before this configuration can run, one sentence each.
    public func problems() -> [String] {
        var problems: [String] = []
        for provider in providers {
            if !ProviderConfiguration.kinds.contains(provider.kind) {
                problems.append(
                    "providers[\(provider.name)].kind '\(provider.kind)' is not one of \(ProviderConfiguration.kinds.sorted().joined(separator: ", "))")
            }
            if [provider.apiKey, provider.apiKeyEnv, provider.apiKeyFile].compactMap({ $0 }).count > 1 {
                problems.append("providers[\(provider.name)]: set only one of api_key, api_key_env and api_key_file")
            }
        }
        let currency = pricingCurrency
        if currency.isEmpty || currency.utf8.count > 8 || !currency.allSatisfy({ $0.isASCII && $0.isLetter }) {
            problems.append("pricing_currency must be a currency code of 1 to 8 letters (e.g. USD), got '\(currency)'")
        }
        problems += routingProblems()
        var seenKeys = Set<String>()
        for tenant in tenants {
            for key in tenant.keys where !seenKeys.insert(key.key).inserted {
                problems.append("tenants: API key of tenant '\(tenant.id)' is used twice")
            }
        }
        problems += numberProblems()
        problems += cancellation.problems()
        problems += logging.problems() + tracing.problems()
        problems += tenancyProblems()
        problems += redaction?.problems() ?? []
        problems += webhooks.problems()
        problems += batches.problems()
        return problems
    }

    /// Every numeric setting against its range, one sentence per value out of range.
    ///
    /// Settings end up in librdkafka and libcurl (as C `int`/`long`), in `Int` arithmetic
    /// (`batch_size * 4`, `retry_base_delay_ms << n`) and in sleeps; the ranges keep all of
    /// those safe, so a typo in a config file stops the process at start with a sentence naming
    /// the key rather than trapping or hanging later.
    private func numberProblems() -> [String] {
        var problems: [String] = []
        func check(_ key: String, _ value: Int, _ range: ClosedRange<Int>) {
            if !range.contains(value) {
                problems.append("\(key) must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
            }
        }
        let hourMs = 3_600_000
        check("kafka.session_timeout_ms", kafka.sessionTimeoutMs, 1_000...hourMs)
        check("kafka.heartbeat_interval_ms", kafka.heartbeatIntervalMs, 1...hourMs)
        if kafka.heartbeatIntervalMs >= kafka.sessionTimeoutMs {
            problems.append("kafka.heartbeat_interval_ms must be less than kafka.session_timeout_ms")
        }
        check("ingress.port", ingress.port, 1...65_535)
        check("ingress.max_body_bytes", ingress.maxBodyBytes, 1...(256 << 20))
        check("ingress.produce_timeout_ms", ingress.produceTimeoutMs, 1...300_000)
        check("ingress.retry_after_seconds", ingress.retryAfterSeconds, 1...86_400)
        check("ingress.max_output_tokens", ingress.maxOutputTokens, 1...100_000_000)
        check("ingress.sync_timeout_ms", ingress.syncTimeoutMs, 100...3_600_000)
        check("ingress.max_deadline_ahead_seconds", ingress.maxDeadlineAheadSeconds, 1...IngressConfiguration.deadlineAheadLimitSeconds)
        check("workers.max_in_flight", workers.maxInFlight, 1...1_000_000)
        check("workers.concurrency", workers.concurrency, 1...100_000)
        if workers.weights.count != 3 {
            problems.append("workers.weights must be three numbers (p0, p1, p2), got \(workers.weights.count)")
        }
        for (index, weight) in workers.weights.enumerated() {
            check("workers.weights[\(index)]", weight, 1...1_000)
        }
        check("workers.request_timeout_ms", workers.requestTimeoutMs, 1...hourMs)
        check("workers.connect_timeout_ms", workers.connectTimeoutMs, 1...300_000)
        check("workers.max_attempts", workers.maxAttempts, 1...100)
        check("workers.retry_base_delay_ms", workers.retryBaseDelayMs, 1...hourMs)
        check("workers.retry_max_delay_ms", workers.retryMaxDelayMs, 1...(24 * hourMs))
        check("workers.local_retry_max_ms", workers.localRetryMaxMs, 0...60_000)
        check("workers.retry_max_waiting", workers.retryMaxWaiting, 1...1_000_000)
        check("workers.shutdown_grace_ms", workers.shutdownGraceMs, 0...600_000)
        check("workers.max_response_bytes", workers.maxResponseBytes, 1_024...(1 << 30))
        check("ledger.batch_size", ledger.batchSize, 1...100_000)
        check("ledger.checkpoint_interval_seconds", ledger.checkpointIntervalSeconds, 1...86_400)
        check("ledger.checkpoint_every_events", ledger.checkpointEveryEvents, 1...10_000_000)
        check("ledger.retention_days", ledger.retentionDays, 0...LedgerConfiguration.maxRetentionDays)
        for (tenant, days) in ledger.retentionTenants.sorted(by: { $0.key < $1.key }) {
            check("ledger.retention_tenants.\(tenant)", days, 0...LedgerConfiguration.maxRetentionDays)
        }
        check("ledger.retention_check_seconds", ledger.retentionCheckSeconds, 1...86_400)
        for provider in providers {
            check("providers[\(provider.name)].default_max_tokens", provider.defaultMaxTokens, 1...100_000_000)
        }
        let prices = PriceConfiguration.priceRange
        for (model, price) in pricing.sorted(by: { $0.key < $1.key }) {
            for (key, value) in [("input_per_million", price.inputPerMillion), ("output_per_million", price.outputPerMillion)]
            where !(value.isFinite && prices.contains(value)) {
                problems.append("pricing.\(model).\(key) must be between \(prices.lowerBound) and \(prices.upperBound), got \(value)")
            }
        }
        check("workers.job_partitions", workers.jobPartitions, 1...100_000)
        problems += workers.breaker.problems()
        for provider in providers {
            problems += provider.limits?.problems(key: "providers[\(provider.name)].limits") ?? []
        }
        for (name, route) in routes.sorted(by: { $0.key < $1.key }) {
            for (index, deployment) in route.deployments.enumerated() {
                let key = "routes.\(name).deployments[\(index)]"
                check(key + ".weight", deployment.weight, 1...1_000)
                problems += deployment.limits?.problems(key: key + ".limits") ?? []
            }
        }
        return problems
    }
}

// MARK: - Sections

/// How to reach Kafka and name topics. Default: a local broker on 127.0.0.1:9092.
public struct BrokerConfiguration: Sendable, Decodable {
    /// Default: `127.0.0.1:9092`.
    public var bootstrapServers: String
    /// Default: `sluice`.
    public var topicPrefix: String
    /// Default: 45000 (librdkafka's). Use about 6000 against the dev broker.
    public var sessionTimeoutMs: Int
    /// Default: 3000.
    public var heartbeatIntervalMs: Int
    /// Passed to librdkafka as is, for every client (security.protocol, sasl.*, …). Properties
    /// Sluice's guarantees rest on (`enable.auto.commit`, `acks`, …) are refused at start-up.
    /// Default: none.
    public var properties: [String: String]
    /// The broker may lose its state (the in-memory dev broker): a producer whose id the broker
    /// forgot, or that hit a fatal error, is rebuilt instead of stopping the process. Real Kafka
    /// handles that itself, and a fatal error there should restart the process. Default: false.
    public var devBroker: Bool

    public init(
        bootstrapServers: String = "127.0.0.1:9092", topicPrefix: String = TopicCatalog.canonicalPrefix,
        sessionTimeoutMs: Int = 45_000, heartbeatIntervalMs: Int = 3_000, properties: [String: String] = [:],
        devBroker: Bool = false
    ) {
        self.bootstrapServers = bootstrapServers
        self.topicPrefix = topicPrefix
        self.sessionTimeoutMs = sessionTimeoutMs
        self.heartbeatIntervalMs = heartbeatIntervalMs
        self.properties = properties
        self.devBroker = devBroker
    }

    public var topics: TopicCatalog { TopicCatalog(prefix: topicPrefix) }

    enum CodingKeys: String, CodingKey {
        case bootstrapServers = "bootstrap_servers", topicPrefix = "topic_prefix"
        case sessionTimeoutMs = "session_timeout_ms", heartbeatIntervalMs = "heartbeat_interval_ms"
        case properties, devBroker = "dev_broker"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = BrokerConfiguration()
        bootstrapServers = try c.decodeIfPresent(String.self, forKey: .bootstrapServers) ?? d.bootstrapServers
        topicPrefix = try c.decodeIfPresent(String.self, forKey: .topicPrefix) ?? d.topicPrefix
        sessionTimeoutMs = try c.decodeIfPresent(Int.self, forKey: .sessionTimeoutMs) ?? d.sessionTimeoutMs
        heartbeatIntervalMs = try c.decodeIfPresent(Int.self, forKey: .heartbeatIntervalMs) ?? d.heartbeatIntervalMs
        properties = try c.decodeIfPresent([String: String].self, forKey: .properties) ?? d.properties
        devBroker = try c.decodeIfPresent(Bool.self, forKey: .devBroker) ?? d.devBroker
    }
}

/// The HTTP API. Default: 0.0.0.0:8080, 1 MiB bodies.
public struct IngressConfiguration: Sendable, Decodable {
    /// Default: `0.0.0.0`.
    public var host: String
    /// Default: 8080.
    public var port: Int
    /// Largest accepted request body. Default: 1 MiB.
    public var maxBodyBytes: Int
    /// How long an enqueue may wait for Kafka before the client gets 503. Default: 4000.
    public var produceTimeoutMs: Int
    /// Seconds a client is told to wait in `Retry-After` on 503. Default: 5.
    public var retryAfterSeconds: Int
    /// Largest `max_tokens` / `max_completion_tokens` a job may ask for; larger is a 400 at once
    /// rather than a provider's rejection after the job waited in the queue. Default: 1,000,000.
    public var maxOutputTokens: Int
    /// How far ahead a job's `deadline` may lie; later is a 400 (a typo such as milliseconds
    /// for seconds, not a real deadline). Default: 31,536,000 (365 days).
    public var maxDeadlineAheadSeconds: Int
    /// Most messages (or `input` items) one job may carry. Default: 2048.
    public var maxMessages: Int = 2_048
    /// Longest string anywhere in a request body, in UTF-8 bytes. Default: 262,144 (256 KiB).
    public var maxStringBytes: Int = 262_144
    /// Deepest nesting of arrays and objects in a request body. Default: 32.
    public var maxJSONDepth: Int = 32
    /// How often the ingress re-reads tenants and keys from the ledger, so that a revoked key,
    /// a new key or a changed limit reaches every ingress process. Default: 2000.
    public var tenancyRefreshMs: Int = 2_000
    /// Serve HTTPS with this certificate and key (PEM files). Default: none (plain HTTP).
    public var tls: TLSFilesConfiguration?
    /// How long `POST /v1/chat/completions` waits for its job before answering 504 (the job
    /// stays queued). Default: 120000.
    public var syncTimeoutMs: Int = 120_000

    public init(
        host: String = "0.0.0.0", port: Int = 8080, maxBodyBytes: Int = 1 << 20, produceTimeoutMs: Int = 4_000,
        retryAfterSeconds: Int = 5, maxOutputTokens: Int = 1_000_000, maxDeadlineAheadSeconds: Int = 365 * 86_400
    ) {
        self.host = host
        self.port = port
        self.maxBodyBytes = maxBodyBytes
        self.produceTimeoutMs = produceTimeoutMs
        self.retryAfterSeconds = retryAfterSeconds
        self.maxOutputTokens = maxOutputTokens
        self.maxDeadlineAheadSeconds = maxDeadlineAheadSeconds
    }

    /// The largest `maxDeadlineAheadSeconds` accepted: 100 years, far inside Int64 milliseconds.
    public static let deadlineAheadLimitSeconds = 100 * 366 * 86_400

    enum CodingKeys: String, CodingKey {
        case host, port, maxBodyBytes = "max_body_bytes", produceTimeoutMs = "produce_timeout_ms"
        case retryAfterSeconds = "retry_after_seconds", maxOutputTokens = "max_output_tokens"
        case maxDeadlineAheadSeconds = "max_deadline_ahead_seconds", syncTimeoutMs = "sync_timeout_ms"
        case maxMessages = "max_messages", maxStringBytes = "max_string_bytes", maxJSONDepth = "max_json_depth"
        case tenancyRefreshMs = "tenancy_refresh_ms", tls
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = IngressConfiguration()
        host = try c.decodeIfPresent(String.self, forKey: .host) ?? d.host
        port = try c.decodeIfPresent(Int.self, forKey: .port) ?? d.port
        maxBodyBytes = try c.decodeIfPresent(Int.self, forKey: .maxBodyBytes) ?? d.maxBodyBytes
        produceTimeoutMs = try c.decodeIfPresent(Int.self, forKey: .produceTimeoutMs) ?? d.produceTimeoutMs
        retryAfterSeconds = try c.decodeIfPresent(Int.self, forKey: .retryAfterSeconds) ?? d.retryAfterSeconds
        maxOutputTokens = try c.decodeIfPresent(Int.self, forKey: .maxOutputTokens) ?? d.maxOutputTokens
        maxDeadlineAheadSeconds = try c.decodeIfPresent(Int.self, forKey: .maxDeadlineAheadSeconds) ?? d.maxDeadlineAheadSeconds
        maxMessages = try c.decodeIfPresent(Int.self, forKey: .maxMessages) ?? d.maxMessages
        maxStringBytes = try c.decodeIfPresent(Int.self, forKey: .maxStringBytes) ?? d.maxStringBytes
        maxJSONDepth = try c.decodeIfPresent(Int.self, forKey: .maxJSONDepth) ?? d.maxJSONDepth
        tenancyRefreshMs = try c.decodeIfPresent(Int.self, forKey: .tenancyRefreshMs) ?? d.tenancyRefreshMs
        tls = try c.decodeIfPresent(TLSFilesConfiguration.self, forKey: .tls)
        syncTimeoutMs = try c.decodeIfPresent(Int.self, forKey: .syncTimeoutMs) ?? d.syncTimeoutMs
    }
}

/// The LLM worker pool. Default: 256 jobs in flight, weights 8:4:1.
public struct WorkerConfiguration: Sendable, Decodable {
    /// Jobs taken from Kafka and not yet finished, per process; partitions pause at this bound.
    /// Default: 256.
    public var maxInFlight: Int
    /// Provider calls running at once, per process. Jobs taken beyond this wait locally and are
    /// started by priority weight. Default: 128.
    public var concurrency: Int
    /// Share of starts for p0, p1, p2 when all three have work waiting. Default: [8, 4, 1].
    public var weights: [Int]
    /// Whole-request timeout of one provider call. Default: 120000.
    public var requestTimeoutMs: Int
    /// Default: 5000.
    public var connectTimeoutMs: Int
    /// Tries of one job against a provider that answers 429/5xx or cannot be reached, before the
    /// job fails. Default: 5.
    public var maxAttempts: Int
    /// First wait between tries, doubled each time (a provider's `Retry-After` wins). Default: 500.
    public var retryBaseDelayMs: Int
    /// Longest wait between tries; also the cap on a provider's `Retry-After`. Default: 3600000.
    public var retryMaxDelayMs: Int
    /// Waits up to this long happen in the worker, holding the job's slot; longer ones go
    /// through the retry topics so that the job's partition keeps committing. Default: 2000.
    public var localRetryMaxMs: Int
    /// Jobs waiting in the retry topics' relay at once, per process; past it the retry topics
    /// pause (the jobs wait longer, nothing is lost). Default: 4096.
    public var retryMaxWaiting: Int
    /// At shutdown, how long running provider calls may finish before they are cancelled and
    /// left for redelivery. Queued jobs do not start once shutdown begins. Default: 10000.
    public var shutdownGraceMs: Int

    /// Largest provider answer read, in bytes; a longer one is cut off and fails the job with
    /// `response_too_large`, so that a broken or hostile provider cannot exhaust memory.
    /// Default: 16 MiB.
    public var maxResponseBytes: Int

    /// Partitions of the jobs topics in all (p0 + p1 + p2, topics/jobs.yaml). A worker's share
    /// of each deployment's rate limit is its share of these partitions, so that the fleet
    /// together stays under the provider's limit. Default: 18.
    public var jobPartitions: Int

    /// When a deployment counts as down and how it is probed again. Default: see
    /// ``BreakerConfiguration``.
    public var breaker: BreakerConfiguration

    public init(
        maxInFlight: Int = 256, concurrency: Int = 128, weights: [Int] = [8, 4, 1], requestTimeoutMs: Int = 120_000,
        connectTimeoutMs: Int = 5_000, maxAttempts: Int = 5, retryBaseDelayMs: Int = 500,
        retryMaxDelayMs: Int = 3_600_000, localRetryMaxMs: Int = 2_000, retryMaxWaiting: Int = 4_096,
        shutdownGraceMs: Int = 10_000, maxResponseBytes: Int = 16 << 20, jobPartitions: Int = 18,
        breaker: BreakerConfiguration = .init()
    ) {
        self.jobPartitions = jobPartitions
        self.breaker = breaker
        self.retryMaxDelayMs = retryMaxDelayMs
        self.localRetryMaxMs = localRetryMaxMs
        self.retryMaxWaiting = retryMaxWaiting
        self.shutdownGraceMs = shutdownGraceMs
        self.maxAttempts = maxAttempts
        self.retryBaseDelayMs = retryBaseDelayMs
        self.maxResponseBytes = maxResponseBytes
        self.maxInFlight = maxInFlight
        self.concurrency = concurrency
        self.weights = weights
        self.requestTimeoutMs = requestTimeoutMs
        self.connectTimeoutMs = connectTimeoutMs
    }

    enum CodingKeys: String, CodingKey {
        case maxInFlight = "max_in_flight", concurrency, weights
        case requestTimeoutMs = "request_timeout_ms", connectTimeoutMs = "connect_timeout_ms"
        case maxAttempts = "max_attempts", retryBaseDelayMs = "retry_base_delay_ms"
        case retryMaxDelayMs = "retry_max_delay_ms", localRetryMaxMs = "local_retry_max_ms"
        case retryMaxWaiting = "retry_max_waiting", shutdownGraceMs = "shutdown_grace_ms"
        case maxResponseBytes = "max_response_bytes", jobPartitions = "job_partitions", breaker
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = WorkerConfiguration()
        maxInFlight = try c.decodeIfPresent(Int.self, forKey: .maxInFlight) ?? d.maxInFlight
        concurrency = try c.decodeIfPresent(Int.self, forKey: .concurrency) ?? min(d.concurrency, maxInFlight)
        weights = try c.decodeIfPresent([Int].self, forKey: .weights) ?? d.weights
        requestTimeoutMs = try c.decodeIfPresent(Int.self, forKey: .requestTimeoutMs) ?? d.requestTimeoutMs
        connectTimeoutMs = try c.decodeIfPresent(Int.self, forKey: .connectTimeoutMs) ?? d.connectTimeoutMs
        maxAttempts = try c.decodeIfPresent(Int.self, forKey: .maxAttempts) ?? d.maxAttempts
        retryBaseDelayMs = try c.decodeIfPresent(Int.self, forKey: .retryBaseDelayMs) ?? d.retryBaseDelayMs
        retryMaxDelayMs = try c.decodeIfPresent(Int.self, forKey: .retryMaxDelayMs) ?? d.retryMaxDelayMs
        localRetryMaxMs = try c.decodeIfPresent(Int.self, forKey: .localRetryMaxMs) ?? d.localRetryMaxMs
        retryMaxWaiting = try c.decodeIfPresent(Int.self, forKey: .retryMaxWaiting) ?? d.retryMaxWaiting
        shutdownGraceMs = try c.decodeIfPresent(Int.self, forKey: .shutdownGraceMs) ?? d.shutdownGraceMs
        maxResponseBytes = try c.decodeIfPresent(Int.self, forKey: .maxResponseBytes) ?? d.maxResponseBytes
        jobPartitions = try c.decodeIfPresent(Int.self, forKey: .jobPartitions) ?? d.jobPartitions
        breaker = try c.decodeIfPresent(BreakerConfiguration.self, forKey: .breaker) ?? d.breaker
    }
}

/// The SQLite ledger. Default: `sluice.db` in the working directory.
public struct LedgerConfiguration: Sendable, Decodable {
    /// Default: `sluice.db`.
    public var path: String
    /// Most records written in one transaction. Default: 1000.
    public var batchSize: Int
    /// A signed audit checkpoint is written at least this often while events arrive. Default: 60.
    public var checkpointIntervalSeconds: Int
    /// ... and as soon as this many events arrived since the last one. Default: 100000.
    public var checkpointEveryEvents: Int
    /// The Ed25519 key that signs checkpoints (64 hex digits, the private key's seed). Created
    /// with mode 0600 on first start when absent. Default: `audit-signing.key` beside the
    /// database file.
    public var signingKeyFile: String?
    /// Seal prompts and provider answers at rest with a per-tenant data key (AES-GCM), so that
    /// erasing a tenant is destroying its key. Default: true.
    public var encryptPayloads: Bool
    /// The master key that wraps the tenants' data keys (64 hex digits). Created with mode 0600
    /// on first start when absent; `SLUICE_LEDGER_MASTER_KEY` (64 hex digits) takes precedence.
    /// Default: `ledger-master.key` beside the database file.
    public var masterKeyFile: String?
    /// Payloads (prompts, answers, audit details) older than this many days are purged; the
    /// audit chain keeps verifying. 0 keeps them. Default: 0.
    public var retentionDays: Int
    /// Days per tenant, overriding `retention_days` (0 keeps that tenant's payloads).
    public var retentionTenants: [String: Int]
    /// How often the ledger applies the retention policy. Default: 3600.
    public var retentionCheckSeconds: Int

    /// The longest retention period accepted (100 years), so day counts convert to
    /// milliseconds without overflow.
    public static let maxRetentionDays = 36_500

    public init(
        path: String = "sluice.db", batchSize: Int = 1_000, checkpointIntervalSeconds: Int = 60,
        checkpointEveryEvents: Int = 100_000, signingKeyFile: String? = nil, encryptPayloads: Bool = true,
        masterKeyFile: String? = nil, retentionDays: Int = 0, retentionTenants: [String: Int] = [:],
        retentionCheckSeconds: Int = 3_600
    ) {
        self.path = path
        self.batchSize = batchSize
        self.checkpointIntervalSeconds = checkpointIntervalSeconds
        self.checkpointEveryEvents = checkpointEveryEvents
        self.signingKeyFile = signingKeyFile
        self.encryptPayloads = encryptPayloads
        self.masterKeyFile = masterKeyFile
        self.retentionDays = retentionDays
        self.retentionTenants = retentionTenants
        self.retentionCheckSeconds = retentionCheckSeconds
    }

    /// `signing_key_file`, or its default beside the database.
    public var resolvedSigningKeyFile: String {
        if let signingKeyFile, !signingKeyFile.isEmpty { return signingKeyFile }
        return besideDatabase("audit-signing.key")
    }

    /// `master_key_file`, or its default beside the database.
    public var resolvedMasterKeyFile: String {
        if let masterKeyFile, !masterKeyFile.isEmpty { return masterKeyFile }
        return besideDatabase("ledger-master.key")
    }

    private func besideDatabase(_ name: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return name }
        return String(path[...slash]) + name
    }

    enum CodingKeys: String, CodingKey {
        case path, batchSize = "batch_size", checkpointIntervalSeconds = "checkpoint_interval_seconds"
        case checkpointEveryEvents = "checkpoint_every_events", signingKeyFile = "signing_key_file"
        case encryptPayloads = "encrypt_payloads", masterKeyFile = "master_key_file", retentionDays = "retention_days"
        case retentionTenants = "retention_tenants", retentionCheckSeconds = "retention_check_seconds"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = LedgerConfiguration()
        path = try c.decodeIfPresent(String.self, forKey: .path) ?? d.path
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? d.batchSize
        checkpointIntervalSeconds = try c.decodeIfPresent(Int.self, forKey: .checkpointIntervalSeconds) ?? d.checkpointIntervalSeconds
        checkpointEveryEvents = try c.decodeIfPresent(Int.self, forKey: .checkpointEveryEvents) ?? d.checkpointEveryEvents
        signingKeyFile = try c.decodeIfPresent(String.self, forKey: .signingKeyFile)
        encryptPayloads = try c.decodeIfPresent(Bool.self, forKey: .encryptPayloads) ?? d.encryptPayloads
        masterKeyFile = try c.decodeIfPresent(String.self, forKey: .masterKeyFile)
        retentionDays = try c.decodeIfPresent(Int.self, forKey: .retentionDays) ?? d.retentionDays
        retentionTenants = try c.decodeIfPresent([String: Int].self, forKey: .retentionTenants) ?? d.retentionTenants
        retentionCheckSeconds = try c.decodeIfPresent(Int.self, forKey: .retentionCheckSeconds) ?? d.retentionCheckSeconds
    }

    /// The retention policy these settings describe.
    public var retentionPolicyDays: (defaultDays: Int?, tenantDays: [String: Int]) {
        (retentionDays > 0 ? retentionDays : nil, retentionTenants)
    }
}

/// A tenant, its API keys and its policy (see ``TenantPolicy``).
public struct TenantConfiguration: Sendable, Decodable {
    public var id: String
    public var keys: [APIKeyConfiguration]
    /// Default: none (unlimited).
    public var limits: TenantLimits
    /// May submit at `p0`. Default: false.
    public var allowP0: Bool
    /// Kafka keys the tenant's jobs are spread over. Default: 1 (the tenant id alone).
    public var subKeys: Int

    public init(id: String, keys: [APIKeyConfiguration], limits: TenantLimits = .init(), allowP0: Bool = false, subKeys: Int = 1) {
        self.id = id
        self.keys = keys
        self.limits = limits
        self.allowP0 = allowP0
        self.subKeys = subKeys
    }

    enum CodingKeys: String, CodingKey { case id, keys, limits, allowP0 = "allow_p0", subKeys = "sub_keys" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        keys = try c.decodeIfPresent([APIKeyConfiguration].self, forKey: .keys) ?? []
        limits = try c.decodeIfPresent(TenantLimits.self, forKey: .limits) ?? .init()
        allowP0 = try c.decodeIfPresent(Bool.self, forKey: .allowP0) ?? false
        subKeys = try c.decodeIfPresent(Int.self, forKey: .subKeys) ?? 1
    }

    /// The policy the file gives this tenant.
    public var policy: TenantPolicy { TenantPolicy(limits: limits, allowP0: allowP0, subKeys: subKeys) }
}

public struct APIKeyConfiguration: Sendable, Decodable {
    /// The bearer token, `sk-sluice-…`.
    public var key: String
    /// `submitter` (default), `auditor` or `admin`.
    public var role: String
    /// The tenants an auditor key reads. Default: its own tenant (keys made with
    /// `sluice keys create` have exactly the grants given there, none by default).
    public var grants: [String]?

    public init(key: String, role: String = "submitter", grants: [String]? = nil) {
        self.key = key
        self.role = role
        self.grants = grants
    }

    enum CodingKeys: String, CodingKey { case key, role, grants }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        key = try c.decode(String.self, forKey: .key)
        role = try c.decodeIfPresent(String.self, forKey: .role) ?? "submitter"
        grants = try c.decodeIfPresent([String].self, forKey: .grants)
    }
}

/// An upstream LLM endpoint.
public struct ProviderConfiguration: Sendable, Decodable {
    /// The wire formats Sluice speaks, by `kind`. `vllm`, `ollama`, `llamacpp`, `groq`,
    /// `together`, `mistral`, `deepseek` and `openrouter` are names for `openai-compatible`;
    /// `azure-openai` for `azure`, `google` for `gemini`.
    public static let kinds: Set<String> = [
        "openai", "azure", "anthropic", "gemini", "openai-compatible", "azure-openai", "google",
        "vllm", "ollama", "llamacpp", "groq", "together", "mistral", "deepseek", "openrouter",
    ]

    public var name: String
    /// Wire format: `openai`, `azure`, `anthropic`, `gemini` or `openai-compatible` (see
    /// ``kinds`` for aliases). Default: `openai`.
    public var kind: String
    /// Up to and including the version segment where the dialect has one:
    /// `https://api.openai.com/v1`, `https://api.anthropic.com/v1`,
    /// `https://generativelanguage.googleapis.com/v1beta`; for `azure` the resource,
    /// `https://NAME.openai.azure.com`.
    public var baseURL: String
    /// The credential itself; prefer `api_key_env` or `api_key_file`. Default: none.
    public var apiKey: String?
    /// Name of the environment variable holding the credential. Default: none.
    public var apiKeyEnv: String?
    /// The provider account's limits, for every deployment on it that sets none of its own.
    /// Default: none (learned from the provider's headers and 429s).
    public var limits: LimitsConfiguration?

    /// A file holding the credential (a mounted secret), read once at start and trimmed.
    /// Default: none.
    public var apiKeyFile: String?
    /// Azure OpenAI's `api-version` query parameter. Default: ``defaultAzureAPIVersion``.
    public var apiVersion: String?
    /// Anthropic requires `max_tokens`; a job that names none gets this many. Default: 4096.
    public var defaultMaxTokens: Int

    /// `2024-10-21`: the newest generally available (non-preview) data-plane version of Azure
    /// OpenAI's inference API when this was written, and the one Microsoft's API lifecycle page
    /// lists as the latest GA; previews change shape without notice, so they are opt-in.
    public static let defaultAzureAPIVersion = "2024-10-21"

    public init(
        name: String, kind: String = "openai", baseURL: String, apiKey: String? = nil, apiKeyEnv: String? = nil,
        apiKeyFile: String? = nil, apiVersion: String? = nil, defaultMaxTokens: Int = 4_096,
        limits: LimitsConfiguration? = nil
    ) {
        self.limits = limits
        self.name = name
        self.kind = kind
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.apiKeyEnv = apiKeyEnv
        self.apiKeyFile = apiKeyFile
        self.apiVersion = apiVersion
        self.defaultMaxTokens = defaultMaxTokens
    }

    enum CodingKeys: String, CodingKey {
        case name, kind, baseURL = "base_url", apiKey = "api_key", apiKeyEnv = "api_key_env"
        case limits, apiKeyFile = "api_key_file", apiVersion = "api_version", defaultMaxTokens = "default_max_tokens"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        kind = try c.decodeIfPresent(String.self, forKey: .kind) ?? "openai"
        baseURL = try c.decode(String.self, forKey: .baseURL)
        apiKey = try c.decodeIfPresent(String.self, forKey: .apiKey)
        apiKeyEnv = try c.decodeIfPresent(String.self, forKey: .apiKeyEnv)
        limits = try c.decodeIfPresent(LimitsConfiguration.self, forKey: .limits)
        apiKeyFile = try c.decodeIfPresent(String.self, forKey: .apiKeyFile)
        apiVersion = try c.decodeIfPresent(String.self, forKey: .apiVersion)
        defaultMaxTokens = try c.decodeIfPresent(Int.self, forKey: .defaultMaxTokens) ?? 4_096
    }
}

/// The price of one model, per million tokens, in the configuration's `pricing_currency`.
public struct PriceConfiguration: Sendable, Decodable, Equatable {
    /// Prices a table may hold: 0 to a million per million tokens (far above any real price,
    /// and small enough that no cost computed from ``Usage/tokenRange`` overflows).
    public static let priceRange: ClosedRange<Double> = 0...1_000_000

    public var inputPerMillion: Double
    public var outputPerMillion: Double

    public init(inputPerMillion: Double, outputPerMillion: Double) {
        self.inputPerMillion = inputPerMillion
        self.outputPerMillion = outputPerMillion
    }

    /// What `usage` costs at these prices: prompt tokens at the input price, completion tokens
    /// at the output price. Both factors are bounded, so the result is finite.
    public func cost(of usage: Usage) -> Double {
        (Double(usage.promptTokens) * inputPerMillion + Double(usage.completionTokens) * outputPerMillion) / 1_000_000
    }

    enum CodingKeys: String, CodingKey { case inputPerMillion = "input_per_million", outputPerMillion = "output_per_million" }
}


// MARK: - Credentials

extension ProviderConfiguration {
    /// This provider with the credential from `api_key_file` read into `api_key`.
    ///
    /// The file is read once, at start, and trimmed of surrounding whitespace (secret mounts
    /// often end in a newline); the executable passes a reader, so this library reads no files.
    ///
    /// - Throws: ``ConfigurationProblem`` naming the provider and the key when the file cannot
    ///   be read or holds nothing.
    public func resolvingKeyFile(read: (String) throws -> String) throws(ConfigurationProblem) -> ProviderConfiguration {
        guard let path = apiKeyFile else { return self }
        let text: String
        do {
            text = try read(path)
        } catch {
            throw ConfigurationProblem("providers[\(name)].api_key_file '\(path)' cannot be read: \(error)")
        }
        let key = text.trimmingCharacters(in: .whitespacesAndNewlinesASCII)
        guard !key.isEmpty else { throw ConfigurationProblem("providers[\(name)].api_key_file '\(path)' is empty") }
        var resolved = self
        resolved.apiKey = key
        return resolved
    }
}

/// A configuration that cannot run, in one sentence naming the key.
public struct ConfigurationProblem: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension String {
    /// Spaces, tabs, CR and LF trimmed from both ends (without Foundation).
    fileprivate func trimmingCharacters(in set: Set<Character>) -> String {
        guard let first = firstIndex(where: { !set.contains($0) }), let last = lastIndex(where: { !set.contains($0) }) else { return "" }
        return String(self[first...last])
    }
}

extension Set where Element == Character {
    fileprivate static let whitespacesAndNewlinesASCII: Set<Character> = [" ", "\t", "\n", "\r", "\r\n"]
}
