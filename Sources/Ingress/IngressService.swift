import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Kafka
import Logging
import ServiceLifecycle
import SluiceCore

/// The HTTP API: authenticates, validates, enqueues on Kafka, and answers job status from the
/// ledger.
///
/// A job is answered 202 only after Kafka acknowledged it; when Kafka cannot be reached the
/// client gets 503 with `Retry-After` within `produceTimeoutMs` and nothing is half-accepted.
public struct IngressService: Service {
    private let configuration: IngressConfiguration
    private let keys: KeyRing
    private let policies: TenantPolicies
    private let limiter: TenantLimiter
    private let jobRoutes: JobRoutes
    private let clock: WallClock
    private let logger: Logger
    /// The audit log (`/v1/audit/*`); nil serves no audit routes.
    public var audit: (any AuditReader)?
    /// Tenants and keys in the ledger (and `/v1/admin/*`); nil: only the config file's.
    private let directory: (any TenantDirectory)?
    /// PII redaction of every job before it is queued; nil redacts nothing.
    public var redaction: IngressRedaction?
    /// Webhook URL policy and the `/v1/webhooks/*` routes; nil refuses job webhook URLs.
    public var webhooks: WebhookIngressSettings?
    /// Files and batches (`/v1/files`, `/v1/batches`, `/v1/messages/batches`); nil serves none.
    public var batches: BatchService?
    /// Reads `sluice.control` from its end for key revocations and tenant changes (see
    /// ``TenancyControlListener``); nil leaves them to the periodic re-read of the tables.
    public var control: KafkaTopicReader?
    /// Wakes synchronous completions when their results pass (a ``SyncResultListener`` feeds
    /// it); nil: they read the ledger at short intervals.
    public var syncWaiters: SyncResultWaiters?
    private let operations: IngressOperations

    /// - Parameters:
    ///   - models: the model names clients may ask for (the configured routes).
    ///   - jobs: where job status comes from (the ledger).
    ///   - clock: creation times, deadlines and key expiry are read from it.
    ///   - operations: what `/readyz` and `/metrics` answer from.
    ///   - directory: tenants and keys kept in the ledger, limits' usage counts, and the admin
    ///     API; nil serves the config file's tenants only, without ledger-backed limits.
    /// - Throws: `IngressError` when a tenant's key has an unknown role.
    public init(
        configuration: IngressConfiguration, tenants: [TenantConfiguration], models: Set<String>,
        enqueuer: JobEnqueuer, jobs: any JobLookup, clock: WallClock = .system, logger: Logger,
        operations: IngressOperations = IngressOperations(), directory: (any TenantDirectory)? = nil
    ) throws {
        self.operations = operations
        self.clock = clock
        self.configuration = configuration
        let keys = try KeyRing(tenants: tenants, clock: clock)
        self.keys = keys
        let policies = TenantPolicies(tenants: tenants)
        self.policies = policies
        let limiter = TenantLimiter(directory: directory)
        self.limiter = limiter
        self.directory = directory
        self.logger = logger
        jobRoutes = JobRoutes(
            configuration: configuration, keys: keys, validator: JobRequestValidator(models: models, configuration: configuration),
            enqueuer: enqueuer, jobs: jobs, recent: RecentJobs(), idempotency: IdempotencyKeys(), policies: policies,
            limiter: limiter, clock: clock, logger: logger)
    }

    public func run() async throws {
        var app = Application(
            router: buildRouter(), server: try Self.server(configuration.tls),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "sluice"),
            logger: logger
        )
        if let refresher {
            // Keys from the ledger are there before the first request is answered.
            await refresher.refresh()
            app.addServices(refresher)
        }
        if let control {
            app.addServices(TenancyControlListener(reader: control, keys: keys, refresher: refresher, logger: logger))
        }
        try await app.run()
    }

    /// Keeps tenants and keys current from the ledger; nil without one.
    private var refresher: TenancyRefresher? {
        directory.map { directory in
            TenancyRefresher(
                directory: directory, keys: keys, policies: policies, limiter: limiter, intervalMs: configuration.tenancyRefreshMs,
                logger: logger)
        }
    }

    /// The routes, for the server and for in-process tests: one collection per resource, each
    /// with its own authentication.
    public func buildRouter() -> Router<SluiceRequestContext> {
        let router = Router(context: SluiceRequestContext.self)
        router.add(middleware: HTTPMetricsMiddleware())
        router.add(middleware: ErrorShapeMiddleware(logger: logger))
        router.add(middleware: BodyLimitMiddleware(limit: configuration.maxBodyBytes))
        router.get("/openapi.json") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
        }
        router.get("/healthz") { _, _ in
            Self.json(.ok, ["status": "ok"] as JSONValue)
        }
        router.get("/readyz") { _, _ in
            await ready()
        }
        if let metrics = operations.metrics {
            router.get("/metrics") { _, _ in
                var headers = HTTPFields()
                headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: await metrics())))
            }
        }
        var jobRoutes = self.jobRoutes
        jobRoutes.redaction = redaction
        jobRoutes.audit = audit
        jobRoutes.webhooks = webhooks
        router.addRoutes(jobRoutes.collection(), atPath: "/v1/jobs")
        if let audit { router.addRoutes(AuditRoutes(reader: audit, keys: keys).collection(), atPath: "/v1/audit") }
        if let directory {
            let admin = AdminRoutes(
                directory: directory, keys: keys, policies: policies, clock: clock, refresh: refresher, announcer: jobRoutes.enqueuer,
                logger: logger)
            router.addRoutes(admin.collection(), atPath: "/v1/admin")
        }
        if let status = operations.status {
            StatusRoutes(status: status, replay: operations.replayDeadLetters, keys: keys, logger: logger).register(on: router)
        }
        if let webhooks {
            let routes = WebhookRoutes(
                settings: webhooks, keys: keys, clock: clock, retryAfterSeconds: configuration.retryAfterSeconds, logger: logger)
            router.addRoutes(routes.collection(), atPath: "/v1/webhooks")
        }
        let completions = ChatCompletionRoutes(
            keys: keys, admission: jobRoutes, configuration: configuration, clock: clock, logger: logger, waiters: syncWaiters)
        router.addRoutes(completions.collection(), atPath: "/v1/chat/completions")
        if let batches {
            BatchRoutes.registerAll(
                batches, keys: keys, validator: jobRoutes.validator, configuration: configuration, logger: logger, on: router)
        }
        return router
    }

    // MARK: - Handlers

    /// 200 when every readiness check passes, else 503; the body names each check either way.
    private func ready() async -> Response {
        let outcomes = await operations.readiness.evaluate()
        let status: HTTPResponse.Status = outcomes.allSatisfy(\.passed) ? .ok : .serviceUnavailable
        return Self.json(status, IngressOperations.readinessBody(outcomes))
    }

    // MARK: - Helpers

    static func json(_ status: HTTPResponse.Status, _ value: some JSONRepresentable, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: Wire.encode(value))))
    }

    /// Continues a well-formed W3C `traceparent` (as a child span of the caller's), or starts
    /// a new trace.
    static func traceparent(_ incoming: String?) -> String {
        TraceContext.continuing(incoming).traceparent
    }
}

// MARK: - Header names

extension HTTPField.Name {
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    static let idempotentReplayed = HTTPField.Name("Idempotent-Replayed")!
    static let traceparent = HTTPField.Name("traceparent")!
}
