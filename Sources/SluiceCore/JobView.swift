/// A job as `GET /v1/jobs/{id}` shows it: the ledger's row in the API's shape.
public struct JobView: Sendable, Equatable {
    public var id: String
    public var object: String = "job"
    public var tenant: String
    public var status: JobStatus
    public var model: String
    public var priority: Priority
    /// Attempts started so far.
    public var attempts: Int
    public var createdAtMs: Int64
    public var startedAtMs: Int64?
    public var completedAtMs: Int64?
    public var batchID: String?
    public var metadata: JSONValue?
    /// The prompt-injection heuristics that fired at the ingress (`[{"field", "flag"}]`);
    /// nil when none did.
    public var injectionFlags: JSONValue?
    /// The provider's answer in OpenAI `chat.completion` form, once succeeded.
    public var result: JSONValue?
    public var error: JobError?
    public var usage: Usage?
    /// The job's cost in ``currency``, when its model has a configured price.
    public var cost: Double?
    public var currency: String?

    public init(
        id: String, tenant: String, status: JobStatus, model: String, priority: Priority, attempts: Int,
        createdAtMs: Int64, startedAtMs: Int64? = nil, completedAtMs: Int64? = nil, batchID: String? = nil,
        metadata: JSONValue? = nil, result: JSONValue? = nil, error: JobError? = nil, usage: Usage? = nil,
        cost: Double? = nil, currency: String? = nil, injectionFlags: JSONValue? = nil
    ) {
        self.id = id
        self.tenant = tenant
        self.status = status
        self.model = model
        self.priority = priority
        self.attempts = attempts
        self.createdAtMs = createdAtMs
        self.startedAtMs = startedAtMs
        self.completedAtMs = completedAtMs
        self.batchID = batchID
        self.metadata = metadata
        self.result = result
        self.error = error
        self.usage = usage
        self.cost = cost
        self.currency = currency
        self.injectionFlags = injectionFlags
    }
}

/// Reads jobs for the HTTP API. The ledger implements it; ingress only knows this protocol, so
/// the two stay independent modules.
public protocol JobLookup: Sendable {
    /// The job with this id, or nil when there is none *for this tenant* (another tenant's job
    /// is indistinguishable from a missing one).
    func job(id: String, tenant: String) async throws -> JobView?

    /// The job this tenant's `Idempotency-Key` was bound to, or nil when the key is unknown.
    /// A binding is returned even once expired (see ``IdempotencyBinding/isAlive(nowMs:)``):
    /// the caller decides with its own clock.
    func idempotencyBinding(tenant: String, key: String) async throws -> IdempotencyBinding?
}
