import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Redaction
import SluiceCore

/// `POST /v1/chat/completions`: an OpenAI chat-completions request queued at p0 (p1 for a
/// tenant without `allow_p0`) and awaited, so that any OpenAI client can use Sluice
/// synchronously and still get queueing, redaction, limits and audit.
///
/// The job is an ordinary job (it can be read at `/v1/jobs/{id}` afterwards); the handler
/// waits for its result by reading the ledger, which the results topic fills, at short
/// intervals. When the queue cannot take the job the answer is 503 within the produce timeout;
/// when no worker finishes it within `ingress.sync_timeout_ms`, a 504 naming the job, which
/// stays queued and runs later.
struct ChatCompletionRoutes: Sendable {
    let keys: KeyRing
    /// The jobs route's admission (redaction, priority, limits) and queueing.
    let admission: JobRoutes
    var validator: JobRequestValidator { admission.validator }
    var jobs: any JobLookup { admission.jobs }
    let configuration: IngressConfiguration
    let clock: WallClock
    let logger: Logger
    /// Wakes the handler when its result passes on the results topic; nil: it reads the ledger
    /// at short intervals the whole time.
    var waiters: SyncResultWaiters? = nil

    /// Between ledger reads while waiting: short at first (a fast provider answers in tens of
    /// milliseconds), then longer so that many waiting requests do not hammer SQLite.
    static let pollDelaysMs = [5, 5, 10, 10, 20, 20, 50]

    /// The collection, to be added at `/v1/chat/completions`.
    func collection() -> RouteCollection<SluiceRequestContext> {
        let routes = RouteCollection(context: SluiceRequestContext.self)
        routes.add(middleware: AuthMiddleware(keys: keys))
        routes.post { request, context in try await complete(request, context: context) }
        return routes
    }

    private func complete(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let principal = try context.submitter(mayNot: "submit jobs")
        let body = try await readBody(request)
        let nowMs = clock.nowMs()
        // A synchronous caller waits: p0 when its tenant may use it, else p1 (never a 403 for a
        // priority the caller did not ask for).
        var validated = try validator.validate(body, nowMs: nowMs)
        validated.priority = admission.policies.policy(principal.tenant).allowP0 ? .p0 : .p1
        // The same checks as `POST /v1/jobs`: webhook URL, redaction, limits.
        let admitted = try await admission.admit(validated, principal: principal, nowMs: nowMs)
        let job = JobEnvelope(
            id: UUIDv7.generate(), tenant: principal.tenant, model: admitted.request.model, priority: admitted.request.priority,
            request: admitted.request.request, webhook: admitted.request.webhook, metadata: admitted.request.metadata,
            deadlineMs: admitted.request.deadlineMs, createdAtMs: nowMs,
            traceparent: IngressService.traceparent(request.headers[.traceparent]))
        // Registered before the job is queued: its result can come back before the wait begins.
        waiters?.expect(job.id)
        defer { waiters?.forget(job.id) }
        do {
            try await admission.enqueueAdmitted(job, admitted, keyID: principal.keyID)
        } catch {
            let uncertain = (error as? EnqueueError)?.mayHaveBeenQueued ?? true
            logger.warning("sync completion not queued; answering 503", metadata: ["job_id": "\(job.id)", "error": "\(error)"])
            throw APIError.queueUnavailable(retryAfter: configuration.retryAfterSeconds, outcomeUnknown: uncertain)
        }
        IngressMetrics.accepted(tenant: job.tenant, priority: job.priority)
        // Tokenized values go back into the answer from the mapping this request made (the
        // provider saw the tokens); `GET /v1/jobs/{id}` restores the same from the ledger.
        return try await awaitResult(job, tokens: admitted.redacted?.outcome.vault ?? [:])
    }

    private func awaitResult(_ job: JobEnvelope, tokens: [String: String]) async throws -> Response {
        let deadline = ContinuousClock.now + .milliseconds(configuration.syncTimeoutMs)
        if let waiters, let view = try await SyncResultWait(waiters: waiters, jobs: jobs).awaitTerminal(job, until: deadline) {
            return try answer(view, job: job, tokens: tokens)
        }
        var polls = 0
        while ContinuousClock.now < deadline {
            let delay = Self.pollDelaysMs[min(polls, Self.pollDelaysMs.count - 1)]
            polls += 1
            try await Task.sleep(for: min(.milliseconds(delay), deadline - .now))
            let view: JobView?
            do {
                view = try await jobs.job(id: job.id, tenant: job.tenant)
            } catch {
                // The ledger is briefly unreadable (a checkpoint, a busy lock): keep waiting.
                continue
            }
            guard let view, view.status.isTerminal else { continue }
            return try answer(view, job: job, tokens: tokens)
        }
        // One last look: the result may have been recorded as the time ran out.
        if let view = try? await jobs.job(id: job.id, tenant: job.tenant), view.status.isTerminal {
            return try answer(view, job: job, tokens: tokens)
        }
        var headers = HTTPFields()
        headers[.location] = "/v1/jobs/\(job.id)"
        throw APIError(
            status: .gatewayTimeout, type: "timeout_error", code: "sync_timeout",
            message: "The job \(job.id) did not finish within \(configuration.syncTimeoutMs) ms (no worker took it, or the provider is slow). "
                + "It stays queued; read its result at /v1/jobs/\(job.id).")
    }

    /// The finished job as OpenAI answers: the `chat.completion` on success, an OpenAI error
    /// otherwise.
    private func answer(_ view: JobView, job: JobEnvelope, tokens: [String: String]) throws -> Response {
        switch view.status {
        case .succeeded:
            let result = tokens.isEmpty ? view.result : view.result.map { TokenVault.restore($0, mapping: tokens) }
            guard case .object(var completion)? = result else {
                throw APIError(status: .badGateway, type: "api_error", code: "empty_result", message: "The provider's answer was empty.")
            }
            // Fill what a strict client requires if the provider left it out.
            if completion["id"] == nil { completion["id"] = .string("chatcmpl-\(job.id)") }
            completion["object"] = "chat.completion"
            if completion["created"] == nil { completion["created"] = .int((view.completedAtMs ?? clock.nowMs()) / 1_000) }
            if completion["model"] == nil { completion["model"] = .string(view.model) }
            if completion["choices"] == nil { completion["choices"] = .array([]) }
            var headers = HTTPFields()
            headers[HTTPField.Name("x-sluice-job-id")!] = job.id
            return IngressService.json(.ok, JSONValue.object(completion), headers: headers)
        case .cancelled:
            throw APIError(status: .conflict, type: "invalid_request_error", code: "job_cancelled", message: "The job \(job.id) was cancelled.")
        default:
            let error = view.error ?? JobError(type: "api_error", message: "The job failed.")
            let status: HTTPResponse.Status =
                switch (error.type, error.providerStatus) {
                case (_, let s?) where (400..<500).contains(s) && s != 408 && s != 429: .badRequest
                case ("timeout", _), ("deadline_exceeded", _): .gatewayTimeout
                default: .badGateway
                }
            throw APIError(
                status: status, type: status == .badRequest ? "invalid_request_error" : "api_error", code: error.code ?? error.type,
                message: error.message)
        }
    }

    private func readBody(_ request: Request) async throws -> [UInt8] {
        let limit = configuration.maxBodyBytes
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit { throw APIError.tooLarge(limit: limit) }
        var request = request
        do {
            return Array(try await request.collectBody(upTo: limit).readableBytesView)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError.tooLarge(limit: limit)
        }
    }
}
