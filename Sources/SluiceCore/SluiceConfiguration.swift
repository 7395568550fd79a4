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

    public init(
        kafka: BrokerConfiguration = .init(), ingress: IngressConfiguration = .init(),
        workers: WorkerConfiguration = .init(), ledger: LedgerConfiguration = .init(),
        tenants: [TenantConfiguration] = [], providers: [ProviderConfiguration] = [],
        routes: [String: RouteConfiguration] = [:]
    ) {
        self.kafka = kafka
        self.ingress = ingress
        self.workers = workers
        self.ledger = ledger
        self.tenants = tenants
        self.providers = providers
        self.routes = routes
    }

    enum CodingKeys: String, CodingKey { case kafka, ingress, workers, ledger, tenants, providers, routes }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kafka = try c.decodeIfPresent(BrokerConfiguration.self, forKey: .kafka) ?? .init()
        ingress = try c.decodeIfPresent(IngressConfiguration.self, forKey: .ingress) ?? .init()
        workers = try c.decodeIfPresent(WorkerConfiguration.self, forKey: .workers) ?? .init()
        ledger = try c.decodeIfPresent(LedgerConfiguration.self, forKey: .ledger) ?? .init()
        tenants = try c.decodeIfPresent([TenantConfiguration].self, forKey: .tenants) ?? []
        providers = try c.decodeIfPresent([ProviderConfiguration].self, forKey: .providers) ?? []
        routes = try c.decodeIfPresent([String: RouteConfiguration].self, forKey: .routes) ?? [:]
    }

    /// Problems a human must fix before this configuration can run, one sentence each.
    public func problems() -> [String] {
        var problems: [String] = []
        let providerNames = Set(providers.map(\.name))
        for (model, route) in routes.sorted(by: { $0.key < $1.key }) where !providerNames.contains(route.provider) {
            problems.append("routes.\(model).provider '\(route.provider)' is not one of providers[].name")
        }
        var seenKeys = Set<String>()
        for tenant in tenants {
            for key in tenant.keys where !seenKeys.insert(key.key).inserted {
                problems.append("tenants: API key of tenant '\(tenant.id)' is used twice")
            }
        }
        if ingress.maxOutputTokens < 1 { problems.append("ingress.max_output_tokens must be at least 1") }
        if !(1...IngressConfiguration.deadlineAheadLimitSeconds).contains(ingress.maxDeadlineAheadSeconds) {
            problems.append("ingress.max_deadline_ahead_seconds must be between 1 and \(IngressConfiguration.deadlineAheadLimitSeconds)")
        }
        if workers.maxInFlight < 1 { problems.append("workers.max_in_flight must be at least 1") }
        if workers.weights.count != 3 || workers.weights.contains(where: { $0 < 1 }) {
            problems.append("workers.weights must be three positive numbers (p0, p1, p2)")
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
    /// Passed to librdkafka as is, for every client (security.protocol, sasl.*, …). Default: none.
    public var properties: [String: String]

    public init(
        bootstrapServers: String = "127.0.0.1:9092", topicPrefix: String = TopicCatalog.canonicalPrefix,
        sessionTimeoutMs: Int = 45_000, heartbeatIntervalMs: Int = 3_000, properties: [String: String] = [:]
    ) {
        self.bootstrapServers = bootstrapServers
        self.topicPrefix = topicPrefix
        self.sessionTimeoutMs = sessionTimeoutMs
        self.heartbeatIntervalMs = heartbeatIntervalMs
        self.properties = properties
    }

    public var topics: TopicCatalog { TopicCatalog(prefix: topicPrefix) }

    enum CodingKeys: String, CodingKey {
        case bootstrapServers = "bootstrap_servers", topicPrefix = "topic_prefix"
        case sessionTimeoutMs = "session_timeout_ms", heartbeatIntervalMs = "heartbeat_interval_ms"
        case properties
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = BrokerConfiguration()
        bootstrapServers = try c.decodeIfPresent(String.self, forKey: .bootstrapServers) ?? d.bootstrapServers
        topicPrefix = try c.decodeIfPresent(String.self, forKey: .topicPrefix) ?? d.topicPrefix
        sessionTimeoutMs = try c.decodeIfPresent(Int.self, forKey: .sessionTimeoutMs) ?? d.sessionTimeoutMs
        heartbeatIntervalMs = try c.decodeIfPresent(Int.self, forKey: .heartbeatIntervalMs) ?? d.heartbeatIntervalMs
        properties = try c.decodeIfPresent([String: String].self, forKey: .properties) ?? d.properties
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
        case maxDeadlineAheadSeconds = "max_deadline_ahead_seconds"
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

    public init(
        maxInFlight: Int = 256, concurrency: Int = 128, weights: [Int] = [8, 4, 1], requestTimeoutMs: Int = 120_000,
        connectTimeoutMs: Int = 5_000, maxAttempts: Int = 5, retryBaseDelayMs: Int = 500
    ) {
        self.maxAttempts = maxAttempts
        self.retryBaseDelayMs = retryBaseDelayMs
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
    }
}

/// The SQLite ledger. Default: `sluice.db` in the working directory.
public struct LedgerConfiguration: Sendable, Decodable {
    /// Default: `sluice.db`.
    public var path: String
    /// Most records written in one transaction. Default: 1000.
    public var batchSize: Int

    public init(path: String = "sluice.db", batchSize: Int = 1_000) {
        self.path = path
        self.batchSize = batchSize
    }

    enum CodingKeys: String, CodingKey { case path, batchSize = "batch_size" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = LedgerConfiguration()
        path = try c.decodeIfPresent(String.self, forKey: .path) ?? d.path
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? d.batchSize
    }
}

/// A tenant and its API keys.
public struct TenantConfiguration: Sendable, Decodable {
    public var id: String
    public var keys: [APIKeyConfiguration]

    public init(id: String, keys: [APIKeyConfiguration]) {
        self.id = id
        self.keys = keys
    }
}

public struct APIKeyConfiguration: Sendable, Decodable {
    /// The bearer token, `sk-sluice-…`.
    public var key: String
    /// `submitter` (default), `auditor` or `admin`.
    public var role: String

    public init(key: String, role: String = "submitter") {
        self.key = key
        self.role = role
    }

    enum CodingKeys: String, CodingKey { case key, role }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        key = try c.decode(String.self, forKey: .key)
        role = try c.decodeIfPresent(String.self, forKey: .role) ?? "submitter"
    }
}

/// An upstream LLM endpoint.
public struct ProviderConfiguration: Sendable, Decodable {
    public var name: String
    /// Wire format: `openai` (also vLLM, Ollama and other OpenAI-compatible servers). Default: `openai`.
    public var kind: String
    /// Up to and including the version segment, e.g. `https://api.openai.com/v1`.
    public var baseURL: String
    /// The credential itself; prefer `api_key_env`. Default: none.
    public var apiKey: String?
    /// Name of the environment variable holding the credential. Default: none.
    public var apiKeyEnv: String?

    public init(name: String, kind: String = "openai", baseURL: String, apiKey: String? = nil, apiKeyEnv: String? = nil) {
        self.name = name
        self.kind = kind
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.apiKeyEnv = apiKeyEnv
    }

    enum CodingKeys: String, CodingKey {
        case name, kind, baseURL = "base_url", apiKey = "api_key", apiKeyEnv = "api_key_env"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        kind = try c.decodeIfPresent(String.self, forKey: .kind) ?? "openai"
        baseURL = try c.decode(String.self, forKey: .baseURL)
        apiKey = try c.decodeIfPresent(String.self, forKey: .apiKey)
        apiKeyEnv = try c.decodeIfPresent(String.self, forKey: .apiKeyEnv)
    }
}

/// Where one client-facing model name is served.
public struct RouteConfiguration: Sendable, Decodable {
    public var provider: String
    /// The provider's model name. Default: the client-facing name.
    public var model: String?

    public init(provider: String, model: String? = nil) {
        self.provider = provider
        self.model = model
    }
}
