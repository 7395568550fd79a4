import SluiceCore

/// What one provider call came to.
enum ProviderOutcome: Sendable {
    case success(response: JSONValue, usage: Usage?)
    /// Worth another try later: 429, 5xx, 529, timeouts, connection failures.
    case retriable(JobError, retryAfterMs: Int?)
    /// Will fail the same way again: 400, 401, 403, 404, 422, context length.
    case permanent(JobError)
}
