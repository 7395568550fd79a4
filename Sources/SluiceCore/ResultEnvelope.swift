/// The outcome of one job, on `sluice.results` (key = job id).
///
/// Produced once per finished attempt that ends the job: success, or a failure that will not
/// be retried. The ledger keys it on the job id, so a duplicate from a redelivery is harmless.
public struct ResultEnvelope: Sendable, Equatable {
    public static let schema = "result.v1"

    public var jobID: String
    public var tenant: String
    public var attempt: Int
    /// `succeeded` or `failed`.
    public var status: JobStatus
    public var model: String
    /// The route that served the job (`provider/model`), for audits and cost reports.
    public var route: String?
    /// The provider's answer in OpenAI `chat.completion` form.
    public var response: JSONValue?
    public var error: JobError?
    public var usage: Usage?
    public var startedAtMs: Int64
    public var finishedAtMs: Int64

    public init(
        jobID: String, tenant: String, attempt: Int, status: JobStatus, model: String, route: String? = nil,
        response: JSONValue? = nil, error: JobError? = nil, usage: Usage? = nil, startedAtMs: Int64, finishedAtMs: Int64
    ) {
        self.jobID = jobID
        self.tenant = tenant
        self.attempt = attempt
        self.status = status
        self.model = model
        self.route = route
        self.response = response
        self.error = error
        self.usage = usage
        self.startedAtMs = startedAtMs
        self.finishedAtMs = finishedAtMs
    }
}

/// Why a job failed, in the same shape as Sluice's HTTP errors.
public struct JobError: Sendable, Equatable, Error {
    /// `provider_error`, `invalid_request_error`, `timeout`, `deadline_exceeded`, …
    public var type: String
    public var code: String?
    public var message: String
    /// The provider's HTTP status, when there was one.
    public var providerStatus: Int?

    public init(type: String, code: String? = nil, message: String, providerStatus: Int? = nil) {
        self.type = type
        self.code = code
        self.message = message
        self.providerStatus = providerStatus
    }
}

/// Token counts as the provider reported them.
public struct Usage: Sendable, Equatable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var totalTokens: Int

    public init(promptTokens: Int, completionTokens: Int, totalTokens: Int? = nil) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.totalTokens = totalTokens ?? promptTokens + completionTokens
    }
}
