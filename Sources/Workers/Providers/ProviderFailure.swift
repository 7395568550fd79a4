import SluiceCore
import SluiceHTTP

/// What a provider's error answer means for the job, the same way for every dialect.
///
/// Only what can succeed later is retried: 408, 409, 429 and every 5xx (Anthropic's 529
/// overloaded included). Everything else, and any context-length error whatever its status,
/// fails the job at once with the provider's own message, because the same request would get
/// the same answer.
enum ProviderFailure {
    /// One error answer, as a dialect read it from its body.
    struct Reading {
        /// The provider's message, if its body had one.
        var message: String?
        /// The provider's code or error type (`rate_limit_exceeded`, `overloaded_error`, `RESOURCE_EXHAUSTED`).
        var code: String?
        /// The request was longer than the model's context window: never worth a retry.
        var isContextLength = false
        /// Out of credit or over a spend limit (OpenAI's `insufficient_quota` 429s): waiting
        /// does not help, so the job fails at once whatever the status.
        var isQuotaExhausted = false
        /// A wait the body asked for (Gemini's `RetryInfo.retryDelay`), in milliseconds.
        var retryAfterMs: Int?
    }

    static func isRetriable(status: Int) -> Bool {
        status == 408 || status == 409 || status == 429 || (500...599).contains(status)
    }

    /// The outcome of a non-2xx answer.
    static func outcome(_ response: HTTPClientResponse, json: JSONValue?, reading: Reading) -> ProviderOutcome {
        let status = response.status
        let message = reading.message ?? fallbackMessage(response, isJSON: json != nil)
        if reading.isContextLength {
            return .permanent(JobError(type: "invalid_request_error", code: "context_length_exceeded", message: message, providerStatus: status))
        }
        let type: String
        switch status {
        case 401, 403: type = "provider_auth_error"
        case 429: type = "rate_limited"
        case 400, 404, 413, 422: type = "invalid_request_error"
        default: type = "provider_error"
        }
        let error = JobError(type: type, code: reading.code ?? "http_\(status)", message: message, providerStatus: status)
        guard isRetriable(status: status), !reading.isQuotaExhausted else { return .permanent(error) }
        return .retriable(error, retryAfterMs: RetryAfter.milliseconds(in: response) ?? reading.retryAfterMs)
    }

    /// A 2xx answer that is not the dialect's success shape: retried, since a proxy or an
    /// overloaded server sometimes answers 200 with a broken body.
    static func invalidSuccess(_ response: HTTPClientResponse, parsed: Result<JSONValue, JSONParseError>, expected: String) -> ProviderOutcome {
        let why: String
        if case .failure(let error) = parsed {
            why = "with a body that is not JSON (\(error), \(response.body.count) bytes)"
        } else {
            why = "without \(expected)"
        }
        return .retriable(
            JobError(type: "provider_error", code: "invalid_response", message: "The provider answered HTTP \(response.status) \(why).", providerStatus: response.status),
            retryAfterMs: nil
        )
    }

    /// The body parsed as JSON, keeping the parse error for messages.
    static func parse(_ response: HTTPClientResponse) -> Result<JSONValue, JSONParseError> {
        Result { () throws(JSONParseError) -> JSONValue in try JSONValue.parse(response.body) }
    }

    /// The first bytes of a body that carries no error message: a proxy's HTML page or plain
    /// text often says what went wrong. Only a short excerpt is decoded, never the whole body.
    static func fallbackMessage(_ response: HTTPClientResponse, isJSON: Bool) -> String {
        guard !response.body.isEmpty else { return "The provider answered HTTP \(response.status) with an empty body." }
        let excerptBytes = 256
        var excerpt = String(decoding: response.body.prefix(excerptBytes), as: UTF8.self)
        if response.body.count > excerptBytes { excerpt += "…" }
        let kind = isJSON ? "JSON without an error message" : "a body that is not JSON"
        return "The provider answered HTTP \(response.status) with \(kind) (\(response.body.count) bytes): \(excerpt)"
    }

    /// A code as text: providers send strings (`"rate_limit_exceeded"`) or numbers (`429`).
    static func text(_ value: JSONValue?) -> String? {
        guard let value else { return nil }
        if let s = value.stringValue { return s }
        return value.intValue.map { String($0) }
    }

    /// What a transport failure (timeout, refused connection, oversized answer) means; the same
    /// for every dialect.
    static func outcome(transport error: any Error) -> ProviderOutcome {
        if let curl = error as? CurlError {
            if curl.isResponseTooLarge {
                // The same request would get the same answer: failing now saves the retries.
                return .permanent(JobError(type: "provider_error", code: "response_too_large", message: "The provider's answer was cut off: \(curl.message) (workers.max_response_bytes)."))
            }
            let code = curl.isTimeout ? "timeout" : curl.isConnectFailure ? "connection_failed" : "transport_error"
            let jobError = JobError(type: "provider_unreachable", code: code, message: curl.message)
            return curl.isRetriable ? .retriable(jobError, retryAfterMs: nil) : .permanent(jobError)
        }
        return .permanent(JobError(type: "internal_error", code: "request_build_failed", message: "\(error)"))
    }

    /// A canonical request this dialect cannot carry: the job fails before anything is sent.
    static func unsupported(_ dialect: String, _ what: String) -> JobError {
        JobError(type: "invalid_request_error", code: "unsupported_by_provider", message: "\(dialect) cannot take this request: \(what).")
    }
}
