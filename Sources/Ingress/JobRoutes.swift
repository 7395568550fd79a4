import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SluiceCore
import Synchronization

/// `/v1/jobs`: submit, read and cancel a tenant's jobs.
///
/// Every route sits behind ``AuthMiddleware``. Another tenant's job is a 404, like a missing
/// one, never a 403 that would confirm it exists.
struct JobRoutes: Sendable {
    let configuration: IngressConfiguration
    let keys: KeyRing
    let validator: JobRequestValidator
    let enqueuer: JobEnqueuer
    let jobs: any JobLookup
    let recent: RecentJobs
    let idempotency: IdempotencyKeys
    let policies: TenantPolicies
    let limiter: TenantLimiter
    let clock: WallClock
    let logger: Logger
    /// Turns through a tenant's sub-keys, so that its jobs spread evenly over them.
    let subKeyTurn = TurnCounter()
    /// PII redaction of every job before it is queued; nil redacts nothing.
    var redaction: IngressRedaction?
    /// Where tokenized values are restored from (the `job.accepted` event's sealed vault).
    var audit: (any AuditReader)?
    /// Checks a job's webhook URL; nil refuses jobs that name one.
    var webhooks: WebhookIngressSettings?

    /// The collection, to be added at `/v1/jobs`.
    func collection() -> RouteCollection<SluiceRequestContext> {
        let routes = RouteCollection(context: SluiceRequestContext.self)
        // Outside authentication, so that a 401 counts as a rejected submission too.
        routes.add(middleware: SubmissionMetricsMiddleware())
        routes.add(middleware: AuthMiddleware(keys: keys))
        routes.post { request, context -> Response in
            do {
                return try await submit(request, context: context)
            } catch let replayed as Replayed {
                return replayed.response
            }
        }
        routes.get(":id") { request, context in try await status(request, context: context) }
        routes.post(":id/cancel") { request, context in try await cancel(request, context: context) }
        return routes
    }

    /// An `Idempotency-Key` replay: the answer, carried out of the reservation's scope (a
    /// replay queues nothing, so the reservation is released).
    private struct Replayed: Error {
        let response: Response
    }

    // MARK: - Handlers

    private func submit(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let startedAt = FinishedSpan.nowUnixNanos()
        let principal = try context.caller()
        guard principal.role.maySubmit else { throw APIError.forbidden("Role '\(principal.role)' may not submit jobs.") }
        let body = try await readBody(request, context: context)
        let nowMs = clock.nowMs()
        let admitted = try await admit(
            try validator.validate(body, nowMs: nowMs), principal: principal, nowMs: nowMs, requestBytes: body.count)
        let (validated, redacted, policy, reservation) = (admitted.request, admitted.redacted, admitted.policy, admitted.reservation)
        do {
            return try await enqueue(
                validated, redacted: redacted, body: body, principal: principal, policy: policy, request: request, nowMs: nowMs,
                startedAt: startedAt)
        } catch {
            limiter.release(reservation)
            throw error
        }
    }

    /// A job that passed every check before queueing.
    struct Admitted {
        var request: JobRequest
        var redacted: IngressRedaction.Redacted?
        var policy: TenantPolicy
        /// Release it when the job is not queued after all.
        var reservation: TenantLimiter.Reservation
    }

    /// The checks every job passes before it is queued, whichever route it came by
    /// (`POST /v1/jobs`, `POST /v1/chat/completions`): its webhook URL, PII redaction (before
    /// anything else sees the prompt: what is queued, logged or audited carries the masks), the
    /// tenant's priority permission and its limits.
    /// - Parameter requestBytes: the size of the client's body when the caller has it; the
    ///   token estimate then needs no second serialization of the request.
    func admit(_ validated: JobRequest, principal: Principal, nowMs: Int64, requestBytes: Int? = nil) async throws -> Admitted {
        var validated = validated
        if let url = validated.webhook?.url {
            guard let webhooks else { throw APIError.invalidRequest("'webhook' is not served by this process.", param: "webhook.url") }
            try await webhooks.checkJobURL(url, tenant: principal.tenant)
        }
        let redacted = try redaction?.redact(validated.request, tenant: principal.tenant)
        if let redacted { validated.request = redacted.request }
        let policy = policies.policy(principal.tenant)
        if validated.priority == .p0, !policy.allowP0 {
            throw APIError(
                status: .forbidden, type: "permission_error", code: "priority_not_allowed",
                message: "Tenant '\(principal.tenant)' may not submit at priority 'p0'; use 'p1' or 'p2'.", param: "priority")
        }
        // Reserved before an Idempotency-Key is claimed: a refused job claims nothing.
        let reservation = try await limiter.admit(
            tenant: principal.tenant, limits: policy.limits, estimatedTokens: Self.estimatedTokens(validated, requestBytes: requestBytes),
            nowMs: nowMs)
        return Admitted(request: validated, redacted: redacted, policy: policy, reservation: reservation)
    }

    /// Queues an admitted job without an Idempotency-Key (the synchronous route), keyed like
    /// any other job of its tenant and with the same `job.accepted` detail.
    func enqueueAdmitted(_ job: JobEnvelope, _ admitted: Admitted, keyID: String?) async throws {
        do {
            var detail = try admitted.redacted.map { try redaction?.auditDetail($0, jobID: job.id) ?? [:] } ?? [:]
            if let keyID { detail["key_id"] = .string(keyID) }
            let partitionKey = TenantID.partitionKey(tenant: job.tenant, subKeys: admitted.policy.subKeys, pick: subKeyTurn.next())
            try await enqueuer.enqueue(job, partitionKey: partitionKey, auditDetail: detail)
        } catch {
            limiter.release(admitted.reservation)
            throw error
        }
    }

    private func enqueue(
        _ validated: JobRequest, redacted: IngressRedaction.Redacted?, body: [UInt8], principal: Principal, policy: TenantPolicy,
        request: Request, nowMs: Int64, startedAt: UInt64
    ) async throws -> Response {

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
                throw Replayed(response: Self.accepted(view, replayed: true))
            case .produce(let derivedID):
                jobID = derivedID
                fingerprint = bodyFingerprint
            }
        }

        let job = JobEnvelope(
            id: jobID, tenant: principal.tenant, model: validated.model, priority: validated.priority,
            request: validated.request, webhook: validated.webhook, metadata: validated.metadata,
            deadlineMs: validated.deadlineMs, createdAtMs: nowMs, idempotencyKey: idempotencyKey,
            traceparent: IngressService.traceparent(request.headers[.traceparent])
        )
        var detail = try redacted.map { try redaction?.auditDetail($0, jobID: job.id) ?? [:] } ?? [:]
        // Which key sent it: the audit log's `key_id` filter and per-key reports read this.
        if let keyID = principal.keyID { detail["key_id"] = .string(keyID) }
        do {
            let partitionKey = TenantID.partitionKey(
                tenant: job.tenant, subKeys: policy.subKeys, pick: subKeyTurn.next())
            try await enqueuer.enqueue(job, requestFingerprint: fingerprint, partitionKey: partitionKey, auditDetail: detail)
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
            createdAtMs: job.createdAtMs, metadata: job.metadata, injectionFlags: detail["injection_flags"]
        )
        recent.remember(view)
        IngressMetrics.accepted(tenant: job.tenant, priority: job.priority)
        logger.debug(job: job, "job accepted", metadata: ["model": "\(job.model)", "priority": "\(job.priority.rawValue)"])
        IngressSpans.accepted(job, incoming: request.headers[.traceparent], startedAt: startedAt)
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

    private func status(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let principal = try context.caller()
        let id = context.parameters.get("id") ?? ""
        guard UUIDv7.isWellFormed(id) else { throw APIError.notFound("job", id: id) }
        let lowered = id.lowercased()
        guard let view = try await jobs.job(id: lowered, tenant: principal.tenant) ?? recent.view(id: lowered, tenant: principal.tenant) else {
            throw APIError.notFound("job", id: id)
        }
        return IngressService.json(.ok, await redaction?.restore(view, audit: audit) ?? view)
    }

    /// Cancels a queued, waiting or retrying job: publishes the request and answers 202 with
    /// the job as it stands now; the job ends `cancelled` when a worker (or the retry relay)
    /// next looks at it. A job the ledger already shows finished is 409 and stays as it is.
    /// Another tenant's job is 404, like a missing one.
    private func cancel(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let principal = try context.caller()
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
        return IngressService.json(.accepted, view)
    }

    // MARK: - Helpers

    /// The body, collected by Hummingbird up to the context's `maxUploadSize`
    /// (`ingress.max_body_bytes`); a declared or actual larger one is a 413.
    private func readBody(_ request: Request, context: SluiceRequestContext) async throws -> [UInt8] {
        let limit = context.maxUploadSize
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
        return IngressService.json(.accepted, view, headers: headers)
    }

    /// Tokens a job may use, for the daily limit: its `max_tokens` (or `max_completion_tokens`;
    /// 1024 when it names neither) plus its request's bytes / 4 (the client's body size when
    /// known: serializing the request again only to count it cost a few percent of an accept).
    static func estimatedTokens(_ job: JobRequest, requestBytes: Int? = nil) -> Int64 {
        let output = job.request["max_tokens"]?.intValue ?? job.request["max_completion_tokens"]?.intValue ?? 1_024
        let promptBytes = Int64(requestBytes ?? job.request.serialized().count)
        return max(0, output).addingSaturating(promptBytes / 4)
    }
}

/// A shared counter for round-robin choices.
final class TurnCounter: Sendable {
    private let value = Atomic<Int>(0)

    func next() -> Int { value.wrappingAdd(1, ordering: .relaxed).oldValue }
}

/// Counts every refused `POST /v1/jobs` in `sluice_jobs_rejected_total`, by its error code.
struct SubmissionMetricsMiddleware: RouterMiddleware {
    typealias Context = SluiceRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            if request.method == .post, context.parameters.get("id") == nil { IngressMetrics.rejected(error) }
            throw error
        }
    }
}
