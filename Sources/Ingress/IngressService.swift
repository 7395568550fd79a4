import Foundation
import HTTPTypes
import Hummingbird
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
    private let validator: JobRequestValidator
    private let enqueuer: JobEnqueuer
    private let jobs: any JobLookup
    private let recent = RecentJobs()
    private let idempotency = IdempotencyKeys()
    private let clock: WallClock
    private let logger: Logger
    /// The audit log (`/v1/audit/*`); nil serves no audit routes.
    public var audit: (any AuditReader)?
    /// Files and batches (`/v1/files`, `/v1/batches`, `/v1/messages/batches`); nil serves none.
    public var batches: BatchService?
    private let operations: IngressOperations

    /// - Parameters:
    ///   - models: the model names clients may ask for (the configured routes).
    ///   - jobs: where job status comes from (the ledger).
    ///   - clock: creation times, deadlines and key expiry are read from it.
    ///   - operations: what `/readyz` and `/metrics` answer from.
    /// - Throws: `IngressError` when a tenant's key has an unknown role.
    public init(
        configuration: IngressConfiguration, tenants: [TenantConfiguration], models: Set<String>,
        enqueuer: JobEnqueuer, jobs: any JobLookup, clock: WallClock = .system, logger: Logger,
        operations: IngressOperations = IngressOperations()
    ) throws {
        self.operations = operations
        self.clock = clock
        self.configuration = configuration
        self.keys = try KeyRing(tenants: tenants)
        self.validator = JobRequestValidator(models: models, configuration: configuration)
        self.enqueuer = enqueuer
        self.jobs = jobs
        self.logger = logger
    }

    public func run() async throws {
        let app = Application(
            router: buildRouter(),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "sluice"),
            logger: logger
        )
        try await app.run()
    }

    /// The routes, for the server and for in-process tests.
    public func buildRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: ErrorShapeMiddleware(logger: logger))
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
        router.post("/v1/jobs") { request, context -> Response in
            do {
                return try await submit(request, context: context)
            } catch {
                IngressMetrics.rejected(error)
                throw error
            }
        }
        router.get("/v1/jobs/:id") { request, context in
            try await status(request, context: context)
        }
        router.post("/v1/jobs/:id/cancel") { request, context in
            try await cancel(request, context: context)
        }
        if let audit { AuditRoutes(reader: audit, keys: keys).register(on: router) }
        if let batches { BatchRoutes.registerAll(batches, keys: keys, validator: validator, configuration: configuration, logger: logger, on: router) }
        return router
    }

    // MARK: - Handlers

    /// 200 when every readiness check passes, else 503; the body names each check either way.
    private func ready() async -> Response {
        let outcomes = await operations.readiness.evaluate()
        let status: HTTPResponse.Status = outcomes.allSatisfy(\.passed) ? .ok : .serviceUnavailable
        return Self.json(status, IngressOperations.readinessBody(outcomes))
    }

    private func submit(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let principal = try keys.authenticate(request.headers[.authorization])
        guard principal.role.maySubmit else { throw APIError.forbidden("Role '\(principal.role)' may not submit jobs.") }
        let body = try await readBody(request)
        let nowMs = clock.nowMs()
        let validated = try validator.validate(body, nowMs: nowMs)

        let idempotencyKey = request.headers[.idempotencyKey]
        var jobID = UUIDv7.generate()
        var fingerprint: String?
        if let key = idempotencyKey {
            guard key.utf8.count <= 255 else {
                throw APIError.invalidRequest("'Idempotency-Key' may be at most 255 bytes.", param: "Idempotency-Key")
            }
            let bodyFingerprint = IdempotencyBinding.fingerprint(body)
            switch try await resolve(key: key, tenant: principal.tenant, fingerprint: bodyFingerprint, nowMs: nowMs) {
            case .replay(let view):
                return Self.accepted(view, replayed: true)
            case .produce(let derivedID):
                jobID = derivedID
                fingerprint = bodyFingerprint
            }
        }

        let job = JobEnvelope(
            id: jobID, tenant: principal.tenant, model: validated.model, priority: validated.priority,
            request: validated.request, webhook: validated.webhook, metadata: validated.metadata,
            deadlineMs: validated.deadlineMs, createdAtMs: nowMs, idempotencyKey: idempotencyKey,
            traceparent: Self.traceparent(request.headers[.traceparent])
        )
        do {
            try await enqueuer.enqueue(job, requestFingerprint: fingerprint)
        } catch {
            if let key = idempotencyKey { idempotency.abandon(tenant: principal.tenant, key: key) }
            let uncertain = (error as? EnqueueError)?.mayHaveBeenQueued ?? true
            logger.warning(
                "enqueue failed; answering 503",
                metadata: ["job_id": "\(job.id)", "outcome_unknown": "\(uncertain)", "error": "\(error)"])
            throw APIError.queueUnavailable(
                retryAfter: configuration.retryAfterSeconds, outcomeUnknown: uncertain, hasIdempotencyKey: idempotencyKey != nil)
        }
        if let key = idempotencyKey { idempotency.complete(tenant: principal.tenant, key: key, jobID: job.id) }
        let view = JobView(
            id: job.id, tenant: job.tenant, status: .queued, model: job.model, priority: job.priority, attempts: 0,
            createdAtMs: job.createdAtMs, metadata: job.metadata
        )
        recent.remember(view)
        IngressMetrics.accepted(tenant: job.tenant, priority: job.priority)
        return Self.accepted(view, replayed: false)
    }

    /// What a keyed request leads to.
    private enum KeyedSubmission {
        /// Answer with the job the key already names.
        case replay(JobView)
        /// Queue the job under this (derived) id; the caller holds the key's claim.
        case produce(jobID: String)
    }

    /// Decides a keyed request: this process's own requests first (in progress → 409, just
    /// accepted → replay), then the ledger's binding, which every ingress process and restart
    /// shares. A key not bound yet queues the job under an id derived from tenant, key and body,
    /// so that a retry racing the ledger, on any process, names the same job.
    ///
    /// - Throws: `APIError` 409 for a key in progress or bound to another body; 503 when the
    ///   ledger cannot be read (the key could not be checked). The claim is released on throw.
    private func resolve(key: String, tenant: String, fingerprint: String, nowMs: Int64) async throws -> KeyedSubmission {
        switch idempotency.claim(tenant: tenant, key: key, fingerprint: fingerprint, nowMs: nowMs) {
        case .claimed:
            break
        case .replay(let jobID):
            if let view = try await jobs.job(id: jobID, tenant: tenant) ?? recent.view(id: jobID, tenant: tenant) {
                return .replay(view)
            }
            throw APIError.idempotencyConflict("The job of this Idempotency-Key is no longer known.")
        case .inProgress:
            throw APIError.idempotencyInProgress
        case .conflict:
            throw APIError.idempotencyConflict("This Idempotency-Key was used with a different request body.")
        }

        do {
            let jobID = IdempotencyBinding.jobID(tenant: tenant, key: key, fingerprint: fingerprint)
            var known: JobView?
            if let binding = try await jobs.idempotencyBinding(tenant: tenant, key: key), binding.isAlive(nowMs: nowMs) {
                guard binding.fingerprint == fingerprint else {
                    throw APIError.idempotencyConflict("This Idempotency-Key was used with a different request body.")
                }
                known = try await jobs.job(id: binding.jobID, tenant: tenant)
            } else {
                // Expired or not yet applied: the derived id may still name a job the ledger
                // holds (the same key and body, over 24 h ago), which is then the answer rather
                // than a second run of it.
                known = try await jobs.job(id: jobID, tenant: tenant)
            }
            if let known {
                idempotency.complete(tenant: tenant, key: key, jobID: known.id)
                return .replay(known)
            }
            return .produce(jobID: jobID)
        } catch let error as APIError {
            idempotency.abandon(tenant: tenant, key: key)
            throw error
        } catch {
            idempotency.abandon(tenant: tenant, key: key)
            logger.warning(
                "cannot read the ledger to check an Idempotency-Key; answering 503", metadata: ["error": "\(error)"])
            throw APIError.idempotencyUnverifiable(retryAfter: configuration.retryAfterSeconds)
        }
    }

    private func status(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let principal = try keys.authenticate(request.headers[.authorization])
        let id = context.parameters.get("id") ?? ""
        guard UUIDv7.isWellFormed(id) else { throw APIError.notFound("job", id: id) }
        let lowered = id.lowercased()
        guard let view = try await jobs.job(id: lowered, tenant: principal.tenant) ?? recent.view(id: lowered, tenant: principal.tenant) else {
            throw APIError.notFound("job", id: id)
        }
        return Self.json(.ok, view)
    }

    /// Cancels a queued, waiting or retrying job: publishes the request and answers 202 with
    /// the job as it stands now; the job ends `cancelled` when a worker (or the retry relay)
    /// next looks at it. A job the ledger already shows finished is 409 and stays as it is.
    /// Another tenant's job is 404, like a missing one.
    private func cancel(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let principal = try keys.authenticate(request.headers[.authorization])
        guard principal.role.maySubmit else { throw APIError.forbidden("Role '\(principal.role)' may not cancel jobs.") }
        let id = context.parameters.get("id") ?? ""
        guard UUIDv7.isWellFormed(id) else { throw APIError.notFound("job", id: id) }
        let lowered = id.lowercased()
        let known: JobView?
        do {
            known = try await jobs.job(id: lowered, tenant: principal.tenant) ?? recent.view(id: lowered, tenant: principal.tenant)
        } catch {
            logger.warning("cannot read the ledger to cancel a job; answering 503", metadata: ["job_id": "\(lowered)", "error": "\(error)"])
            throw APIError.ledgerUnavailable(retryAfter: configuration.retryAfterSeconds)
        }
        guard let view = known else { throw APIError.notFound("job", id: id) }
        guard !view.status.isTerminal else { throw APIError.jobFinished(id: view.id, status: view.status) }
        do {
            try await enqueuer.requestCancellation(jobID: view.id, tenant: view.tenant, attempt: view.attempts, nowMs: clock.nowMs())
        } catch {
            logger.warning("cancellation not published; answering 503", metadata: ["job_id": "\(view.id)", "error": "\(error)"])
            throw APIError.queueUnavailable(retryAfter: configuration.retryAfterSeconds)
        }
        return Self.json(.accepted, view)
    }

    // MARK: - Helpers

    private func readBody(_ request: Request) async throws -> [UInt8] {
        let limit = configuration.maxBodyBytes
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw APIError.tooLarge(limit: limit)
        }
        var request = request
        do {
            let buffer = try await request.collectBody(upTo: limit)
            return Array(buffer.readableBytesView)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError.tooLarge(limit: limit)
        }
    }

    private static func accepted(_ view: JobView, replayed: Bool) -> Response {
        var headers = HTTPFields()
        headers[.location] = "/v1/jobs/\(view.id)"
        if replayed { headers[.idempotentReplayed] = "true" }
        return json(.accepted, view, headers: headers)
    }

    static func json(_ status: HTTPResponse.Status, _ value: some JSONRepresentable, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: value.json.serialized())))
    }

    /// Keeps a well-formed W3C `traceparent`, or starts a new trace.
    static func traceparent(_ incoming: String?) -> String {
        if let incoming, incoming.utf8.count == 55 {
            let parts = incoming.split(separator: "-")
            if parts.count == 4, parts[1].count == 32, parts[2].count == 16, parts.allSatisfy({ $0.allSatisfy(\.isHexDigit) }) {
                return incoming.lowercased()
            }
        }
        var random = SystemRandomNumberGenerator()
        let hex = { (n: UInt64) in String(n, radix: 16).leftPadded(to: 16) }
        return "00-\(hex(random.next()))\(hex(random.next()))-\(hex(random.next()))-01"
    }
}

// MARK: - Header names

extension HTTPField.Name {
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    static let idempotentReplayed = HTTPField.Name("Idempotent-Replayed")!
    static let traceparent = HTTPField.Name("traceparent")!
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
