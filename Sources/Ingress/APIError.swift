import Hummingbird
import SluiceCore

/// An error answer of the HTTP API: `{"error": {"type", "code", "message", "param"?}}`.
///
/// Every failure a client can cause or see is one of these, made at the edge; anything else
/// that escapes a handler is a bug and is logged as such.
public struct APIError: Error, HTTPResponseError, Sendable, Equatable {
    public var status: HTTPResponse.Status
    public var type: String
    public var code: String
    public var message: String
    /// The request field at fault, as a path (`messages[2].role`).
    public var param: String?
    /// Sent as `Retry-After` (seconds) on 429 and 503.
    public var retryAfterSeconds: Int?

    public init(
        status: HTTPResponse.Status, type: String, code: String, message: String, param: String? = nil,
        retryAfterSeconds: Int? = nil
    ) {
        self.status = status
        self.type = type
        self.code = code
        self.message = message
        self.param = param
        self.retryAfterSeconds = retryAfterSeconds
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        if let retryAfterSeconds { headers[.retryAfter] = String(retryAfterSeconds) }
        let bytes = body.serialized()
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// The JSON answer: `{"error": {"type", "code", "message", "param"?}}`.
    var body: JSONValue {
        var error = JSONObjectWriter()
        error.set("type", type)
        error.set("code", code)
        error.set("message", message)
        error.set("param", param)
        return .object(["error": error.json])
    }
}

// MARK: - The errors the API gives

extension APIError {
    /// A 400. Message and param often quote the client's input (a model name, a key), so both
    /// are clipped: a megabyte key must not come back as a megabyte answer.
    static func invalidRequest(_ message: String, param: String? = nil, code: String = "invalid_value") -> APIError {
        APIError(
            status: .badRequest, type: "invalid_request_error", code: code, message: message.clipped(to: maxMessageLength),
            param: param?.clipped(to: maxParamLength)
        )
    }

    static let maxMessageLength = 1_000
    static let maxParamLength = 200

    static let missingKey = APIError(
        status: .unauthorized, type: "authentication_error", code: "missing_api_key",
        message: "No API key: send the header 'Authorization: Bearer sk-sluice-…'."
    )

    /// ``missingKey`` on a door that also takes Anthropic's `x-api-key`.
    static let missingKeyOrAPIKeyHeader = APIError(
        status: .unauthorized, type: "authentication_error", code: "missing_api_key",
        message: "No API key: send the header 'x-api-key: sk-sluice-…' or 'Authorization: Bearer sk-sluice-…'."
    )

    static let invalidKey = APIError(
        status: .unauthorized, type: "authentication_error", code: "invalid_api_key",
        message: "The API key is not valid."
    )

    static func forbidden(_ message: String) -> APIError {
        APIError(status: .forbidden, type: "permission_error", code: "forbidden", message: message)
    }

    static func tooLarge(limit: Int) -> APIError {
        APIError(
            status: .contentTooLarge, type: "invalid_request_error", code: "request_too_large",
            message: "The request body is larger than the limit of \(limit) bytes."
        )
    }

    static func notFound(_ what: String, id: String) -> APIError {
        APIError(status: .notFound, type: "not_found_error", code: "\(what)_not_found", message: "No \(what) with id '\(id)'.")
    }

    /// The job could not be queued. When the outcome is unknown (a timeout, a rebuilt producer,
    /// half of the job's records acknowledged) the job may exist, and the message says what a
    /// retry does: safe with the same `Idempotency-Key`, a possible second job without one.
    static func queueUnavailable(retryAfter: Int, outcomeUnknown: Bool = false, hasIdempotencyKey: Bool = false) -> APIError {
        let message: String
        switch (outcomeUnknown, hasIdempotencyKey) {
        case (false, _):
            message = "The job queue cannot be reached right now; nothing was accepted. Retry later."
        case (true, true):
            message = "The job queue did not confirm this job in time; it may or may not have been queued. "
                + "Retrying with the same Idempotency-Key is safe: it names the same job and never creates a second one."
        case (true, false):
            message = "The job queue did not confirm this job in time; it may or may not have been queued. "
                + "A retry may create a second job; send an Idempotency-Key to make retries safe."
        }
        return APIError(
            status: .serviceUnavailable, type: "service_unavailable", code: "queue_unavailable", message: message,
            retryAfterSeconds: retryAfter
        )
    }

    /// The ledger could not be read to check an `Idempotency-Key`; queueing anyway could
    /// create a second job for a key that is already bound to another body.
    static func idempotencyUnverifiable(retryAfter: Int) -> APIError {
        APIError(
            status: .serviceUnavailable, type: "service_unavailable", code: "idempotency_unverifiable",
            message: "The Idempotency-Key cannot be checked right now; nothing was accepted. Retry later with the same key.",
            retryAfterSeconds: retryAfter
        )
    }

    /// A cancel of a job that has already finished: it stays as it finished.
    static func jobFinished(id: String, status: JobStatus) -> APIError {
        APIError(
            status: .conflict, type: "invalid_request_error", code: "job_finished",
            message: "Job '\(id)' has already finished (\(status.rawValue)); it cannot be cancelled.")
    }

    /// The ledger could not be read to find the job.
    static func ledgerUnavailable(retryAfter: Int) -> APIError {
        APIError(
            status: .serviceUnavailable, type: "service_unavailable", code: "ledger_unavailable",
            message: "Job status cannot be read right now; nothing was changed. Retry later.", retryAfterSeconds: retryAfter)
    }

    static let idempotencyInProgress = APIError(
        status: .conflict, type: "idempotency_error", code: "idempotency_key_in_progress",
        message: "A request with this Idempotency-Key is still being processed."
    )

    static func idempotencyConflict(_ message: String) -> APIError {
        APIError(status: .conflict, type: "idempotency_error", code: "idempotency_key_conflict", message: message)
    }
}

extension String {
    /// At most `limit` characters, with "…" marking a cut.
    fileprivate func clipped(to limit: Int) -> String {
        // utf8.count is O(1) for native strings; counting characters of a huge string is not.
        guard utf8.count > limit else { return self }
        return String(prefix(limit)) + "…"
    }
}
