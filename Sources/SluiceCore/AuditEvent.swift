/// One state change of a job, on `sluice.audit` (key = tenant).
///
/// The ledger turns these into job status and into the hash-chained audit log; every change of
/// a job's state is exactly one event, so the log alone can rebuild the jobs table.
public struct AuditEvent: Sendable, Equatable {
    public static let schema = "audit.v1"

    /// The event's id; the ledger ignores a second copy of the same id.
    ///
    /// Derived from job id, event type and attempt (see ``AuditEvent/id(jobID:type:attempt:)``),
    /// so that a redelivered job that runs again writes the same ids and adds no second
    /// `job.started` to the ledger.
    public var id: String
    public var type: AuditEventType
    public var tenant: String
    public var jobID: String
    public var attempt: Int
    public var atMs: Int64
    /// Which component wrote it (`ingress`, `worker:<host>:<pid>`).
    public var actor: String
    public var detail: JSONValue?
    /// The job's ``JobEnvelope/replay``: which run of the job the event belongs to.
    public var replay: Int

    public init(
        id: String? = nil, type: AuditEventType, tenant: String, jobID: String, attempt: Int,
        atMs: Int64, actor: String, detail: JSONValue? = nil, replay: Int = 0
    ) {
        self.id = id ?? Self.id(jobID: jobID, type: type, attempt: attempt, replay: replay)
        self.replay = replay
        self.type = type
        self.tenant = tenant
        self.jobID = jobID
        self.attempt = attempt
        self.atMs = atMs
        self.actor = actor
        self.detail = detail
    }
}

extension AuditEvent {
    /// The id of the event of `type` for `attempt` of job `jobID`: the same on every process
    /// and every redelivery.
    ///
    /// A replayed run (`replay` > 0) starts again at attempt 1, so its ids include the replay
    /// number; the original run's ids are unchanged from before replays existed.
    public static func id(jobID: String, type: AuditEventType, attempt: Int, replay: Int = 0) -> String {
        guard replay > 0 else { return DerivedID.make("audit", jobID, type.rawValue, String(attempt)) }
        return DerivedID.make("audit", jobID, type.rawValue, String(attempt), "replay", String(replay))
    }
}

/// The kind of an audit event. A struct rather than an enum: new kinds will come, and a ledger
/// that meets one it does not know keeps it instead of failing to read it.
public struct AuditEventType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    public static let accepted = AuditEventType(rawValue: "job.accepted")
    public static let started = AuditEventType(rawValue: "job.started")
    public static let retrying = AuditEventType(rawValue: "job.retrying")
    public static let succeeded = AuditEventType(rawValue: "job.succeeded")
    public static let failed = AuditEventType(rawValue: "job.failed")
    public static let cancelled = AuditEventType(rawValue: "job.cancelled")
    /// A client asked to cancel the job (`POST /v1/jobs/{id}/cancel`); it ends `cancelled`
    /// when a worker or the retry relay acts on it, or as it was when it finished first.
    public static let cancelRequested = AuditEventType(rawValue: "job.cancel_requested")
    /// An operator put the job back from the DLQ (`sluice dlq replay`): a new run, queued.
    public static let replayed = AuditEventType(rawValue: "job.replayed")

    /// The job status this event moves a job to, if it is a job lifecycle event.
    public var jobStatus: JobStatus? {
        switch self {
        case .accepted: .queued
        case .started: .running
        case .retrying: .retrying
        case .succeeded: .succeeded
        case .failed: .failed
        case .cancelled: .cancelled
        case .replayed: .queued
        default: nil
        }
    }
}
