/// One job as it travels on the `jobs`, retry and DLQ topics.
///
/// `request` is the client's chat-completions body after validation and redaction, with every
/// field the client sent (tools, temperature, vendor extensions) kept as is.
public struct JobEnvelope: Sendable, Equatable {
    public static let schema = "job.v1"

    public var id: String
    public var tenant: String
    public var model: String
    public var priority: Priority
    public var request: JSONValue
    public var webhook: Webhook?
    public var metadata: JSONValue?
    /// Unix milliseconds after which the job is failed instead of run.
    public var deadlineMs: Int64?
    /// 1 for the first try; incremented by each retry.
    public var attempt: Int
    public var createdAtMs: Int64
    public var idempotencyKey: String?
    public var batchID: String?
    public var traceparent: String?
    /// Set on a job waiting in a retry topic: Unix milliseconds before which it must not run.
    public var notBeforeMs: Int64?
    /// Which run of the job this is: 0 for the original, n after the n-th replay from the DLQ.
    ///
    /// A replay starts again at attempt 1, so attempt numbers alone no longer tell the runs
    /// apart; audit event ids, results and the ledger's status order use this as well.
    public var replay: Int = 0
    /// The errors of the attempts that failed so far in this run, oldest first (at most
    /// ``maxFailures``), so that a job on the DLQ says why each of its attempts failed.
    public var failures: [AttemptFailure] = []

    /// The most failures a job carries: more than `workers.max_attempts` allows (100), so
    /// nothing is dropped in practice, while a record from a broken producer stays small.
    public static let maxFailures = 100

    /// Appends one failed attempt, dropping the oldest beyond ``maxFailures``.
    public mutating func recordFailure(_ failure: AttemptFailure) {
        failures.append(failure)
        if failures.count > Self.maxFailures { failures.removeFirst(failures.count - Self.maxFailures) }
    }

    public struct Webhook: Sendable, Equatable {
        public var url: String
        public init(url: String) { self.url = url }
    }

    public init(
        id: String, tenant: String, model: String, priority: Priority, request: JSONValue,
        webhook: Webhook? = nil, metadata: JSONValue? = nil, deadlineMs: Int64? = nil, attempt: Int = 1,
        createdAtMs: Int64, idempotencyKey: String? = nil, batchID: String? = nil, traceparent: String? = nil
    ) {
        self.id = id
        self.tenant = tenant
        self.model = model
        self.priority = priority
        self.request = request
        self.webhook = webhook
        self.metadata = metadata
        self.deadlineMs = deadlineMs
        self.attempt = attempt
        self.createdAtMs = createdAtMs
        self.idempotencyKey = idempotencyKey
        self.batchID = batchID
        self.traceparent = traceparent
    }
}

/// One failed attempt of a job: when it ended and why.
public struct AttemptFailure: Sendable, Equatable {
    public var attempt: Int
    public var atMs: Int64
    public var error: JobError

    public init(attempt: Int, atMs: Int64, error: JobError) {
        self.attempt = attempt
        self.atMs = atMs
        self.error = error
    }
}
