/// The outcome of one job, on `sluice.results` (key = job id).
///
/// Produced once per finished attempt that ends the job: success, or a failure that will not
/// be retried. The ledger keys it on the job id, so a duplicate from a redelivery is harmless.
public struct ResultEnvelope: Sendable, Equatable {
    public static let schema = "result.v1"

    public var jobID: String
    public var tenant: String
    public var attempt: Int
    /// `succeeded`, `failed`, or `cancelled` (a cancellation reached the worker before the
    /// job's next call).
    public var status: JobStatus
    public var model: String
    /// The route that served the job (`provider/model`), for audits and cost reports.
    public var route: String?
    /// The provider's answer in OpenAI `chat.completion` form.
    public var response: JSONValue?
    public var error: JobError?
    public var usage: Usage?
    /// What the call cost, from `usage` and the configured price of its model (`pricing`), in
    /// ``currency``; nil when the model has no price or the provider reported no usage.
    public var cost: Double?
    /// The currency of ``cost`` (`pricing_currency`, e.g. `USD`).
    public var currency: String?
    public var startedAtMs: Int64
    public var finishedAtMs: Int64
    /// The job's ``JobEnvelope/replay``: a later run's result replaces an earlier run's.
    public var replay: Int = 0

    /// Costs a record may carry: usage is at most ``Usage/tokenRange`` and prices at most
    /// ``PriceConfiguration/priceRange`` per million, so no real cost lies beyond this; a
    /// record claiming more is malformed.
    public static let costRange: ClosedRange<Double> = 0...1e13

    public init(
        jobID: String, tenant: String, attempt: Int, status: JobStatus, model: String, route: String? = nil,
        response: JSONValue? = nil, error: JobError? = nil, usage: Usage? = nil, cost: Double? = nil,
        currency: String? = nil, startedAtMs: Int64, finishedAtMs: Int64
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
        self.cost = cost
        self.currency = currency
        self.startedAtMs = startedAtMs
        self.finishedAtMs = finishedAtMs
    }
}

/// Why a job failed, in the same shape as Sluice's HTTP errors.
///
/// Messages and codes often come from a provider's error body, which can be megabytes long;
/// they travel on to Kafka, the ledger and every client that polls, so ``init(type:code:message:providerStatus:)``
/// caps them (``maxMessageBytes``, ``maxCodeBytes``).
public struct JobError: Sendable, Equatable, Error {
    /// Longest ``message`` kept, in UTF-8 bytes; a longer one is cut and ends in a marker
    /// that gives its full length.
    public static let maxMessageBytes = 2_048
    /// Longest ``code`` kept, in UTF-8 bytes. Codes are identifiers, so no marker.
    public static let maxCodeBytes = 128

    /// `provider_error`, `invalid_request_error`, `timeout`, `deadline_exceeded`, …
    public var type: String
    public var code: String?
    public var message: String
    /// The provider's HTTP status, when there was one.
    public var providerStatus: Int?

    /// Cuts `code` and `message` to their limits (cutting an already cut value changes nothing).
    public init(type: String, code: String? = nil, message: String, providerStatus: Int? = nil) {
        self.type = Truncation.cut(type, maxBytes: Self.maxCodeBytes)
        self.code = code.map { Truncation.cut($0, maxBytes: Self.maxCodeBytes) }
        self.message = Truncation.prefix(message, maxBytes: Self.maxMessageBytes)
        self.providerStatus = providerStatus
    }
}

/// Token counts as the provider reported them, within ``tokenRange``.
public struct Usage: Sendable, Equatable {
    /// Counts a usage may hold: zero up to a trillion tokens.
    ///
    /// Counts come from providers and from Kafka records, neither of which Sluice controls;
    /// a count near `Int.max` would overflow the total here and sums in the ledger. A trillion
    /// is far beyond any real call and leaves room to add millions of them in an `Int64`.
    public static let tokenRange: ClosedRange<Int> = 0...1_000_000_000_000

    public var promptTokens: Int
    public var completionTokens: Int
    public var totalTokens: Int

    /// Clamps every count into ``tokenRange`` (a negative count becomes 0, a huge one the
    /// upper bound); a missing total is the sum of the other two, also clamped.
    public init(promptTokens: Int, completionTokens: Int, totalTokens: Int? = nil) {
        let prompt = Self.clamped(promptTokens)
        let completion = Self.clamped(completionTokens)
        self.promptTokens = prompt
        self.completionTokens = completion
        // Both are at most a trillion, so the sum cannot overflow.
        self.totalTokens = Self.clamped(totalTokens ?? prompt + completion)
    }

    private static func clamped(_ count: Int) -> Int {
        min(max(count, tokenRange.lowerBound), tokenRange.upperBound)
    }
}
