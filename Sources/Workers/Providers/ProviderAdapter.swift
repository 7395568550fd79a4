import SluiceCore
import SluiceHTTP

/// One provider wire format (OpenAI chat completions, Azure OpenAI, Anthropic Messages, Gemini
/// generateContent): how a job becomes an HTTP request and how an answer becomes an outcome.
///
/// Jobs carry the canonical request (OpenAI's chat-completions shape); an adapter translates it
/// to its provider's dialect and translates the answer back, so results look the same whichever
/// provider served them. Adapters hold no state: the worker pool owns retries, limits and
/// breakers, and feeds them what `rateLimits(in:)` reads from each answer.
protocol ProviderAdapter: Sendable {
    /// The request for one try of `job` on `deployment`.
    ///
    /// - Throws: `JobError` when the canonical request cannot be expressed in this dialect
    ///   (the job fails at once with that reason; nothing is sent).
    func request(for job: JobEnvelope, deployment: ProviderDeployment, timeoutMs: Int) throws(JobError) -> HTTPClientRequest

    /// What an answer means for the job, translated to the canonical response on success.
    func interpret(_ response: HTTPClientResponse) -> ProviderOutcome

    /// What a transport failure (timeout, refused connection, oversized answer) means.
    func interpret(_ error: any Error) -> ProviderOutcome

    /// The rate-limit state the provider reported in this answer's headers, if it reports one.
    func rateLimits(in response: HTTPClientResponse) -> RateLimitSnapshot?
}

/// A provider's own account of its rate limits, read from one answer (OpenAI's and Azure's
/// `x-ratelimit-*`, Anthropic's `anthropic-ratelimit-*`), normalised. Every field is optional:
/// providers send some, all or none. Counts are clamped to `0...Int32.max` and durations to
/// `0...86_400_000` ms by whoever builds one, so consumers can do arithmetic on them.
public struct RateLimitSnapshot: Sendable, Equatable {
    public var requestLimit: Int?
    public var requestsRemaining: Int?
    /// Until the request window refills, in milliseconds from the answer.
    public var requestsResetMs: Int?
    public var tokenLimit: Int?
    public var tokensRemaining: Int?
    public var tokensResetMs: Int?

    public init(
        requestLimit: Int? = nil, requestsRemaining: Int? = nil, requestsResetMs: Int? = nil,
        tokenLimit: Int? = nil, tokensRemaining: Int? = nil, tokensResetMs: Int? = nil
    ) {
        self.requestLimit = requestLimit
        self.requestsRemaining = requestsRemaining
        self.requestsResetMs = requestsResetMs
        self.tokenLimit = tokenLimit
        self.tokensRemaining = tokensRemaining
        self.tokensResetMs = tokensResetMs
    }

    public var isEmpty: Bool { self == RateLimitSnapshot() }
}
