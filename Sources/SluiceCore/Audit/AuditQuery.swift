/// Which audit events to list, and from where: every filter is optional and they combine with
/// AND. Results come in ledger order (`seq`), which is stable: a cursor is the last `seq` seen.
public struct AuditQuery: Sendable, Equatable {
    /// The tenants the caller may see; nil for all (an admin).
    public var tenants: Set<String>?
    public var type: String?
    public var jobID: String?
    /// Matched against the job's batch, model and outcome (its status), as the jobs table has them.
    public var batchID: String?
    public var model: String?
    /// The provider name of the route that served the job (`<provider>/<model>`).
    public var provider: String?
    public var outcome: String?
    /// The API key id recorded on the job's `job.accepted` (`detail.key_id`).
    public var keyID: String?
    /// `at_ms` from (inclusive) and to (exclusive).
    public var fromMs: Int64?
    public var toMs: Int64?
    /// Only events after this `seq` (the previous page's cursor).
    public var afterSeq: Int64?
    public var limit: Int

    public static let maxLimit = 1_000

    public init(tenants: Set<String>? = nil, limit: Int = 100) {
        self.tenants = tenants
        self.limit = limit
    }
}

/// One page of audit events; `nextCursor` is nil on the last page.
public struct AuditEventPage: Sendable, Equatable {
    public var events: [ChainedAuditEvent]
    public var nextCursor: String?

    public init(events: [ChainedAuditEvent], nextCursor: String?) {
        self.events = events
        self.nextCursor = nextCursor
    }
}

/// The audit side of the ledger, as the HTTP API needs it (the executable wires the ledger in,
/// as it does for ``JobLookup``).
public protocol AuditReader: Sendable {
    func auditEvents(_ query: AuditQuery) async throws -> AuditEventPage
    /// Recomputes chains (of one tenant, or all) and the checkpoints, over an optional time range.
    func verifyAudit(tenant: String?, fromMs: Int64?, toMs: Int64?) async throws -> AuditVerification
    func auditProof(eventID: String) async throws -> AuditProofLookup
    /// The checkpoint-signing keys, newest first.
    func auditPublicKeys() async throws -> [AuditPublicKey]
}
