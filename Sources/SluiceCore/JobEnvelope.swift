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
