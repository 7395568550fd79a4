import GRDB

/// A row of `jobs`: what the ledger knows of one job so far.
struct JobRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "jobs"
    /// For `cachedStatement`: the hot lookup of every poll and every batch.
    static let selectByID = "SELECT * FROM jobs WHERE id = ?"

    var id: String
    var tenant: String
    /// A `JobStatus` raw value.
    var status: String
    /// The attempt of the event or result that set `status`.
    var statusAttempt: Int
    /// When that event happened, to order running and retrying within one attempt.
    var statusAtMs: Int64
    /// The run (``SluiceCore/JobEnvelope/replay``) of the event or result that set `status`.
    var statusReplay: Int
    var model: String
    /// A `Priority` raw value.
    var priority: String
    var attempts: Int
    var createdAtMs: Int64
    var startedAtMs: Int64?
    var completedAtMs: Int64?
    var batchID: String?
    /// The job's metadata, as JSON text.
    var metadata: String?
    var idempotencyKey: String?
    /// Whether job.accepted has been applied; until then model, priority and creation time are
    /// guesses from whatever arrived first.
    var accepted: Bool

    enum CodingKeys: String, CodingKey {
        case id, tenant, status, model, priority, attempts, metadata, accepted
        case statusAttempt = "status_attempt"
        case statusAtMs = "status_at_ms"
        case statusReplay = "status_replay"
        case createdAtMs = "created_at_ms"
        case startedAtMs = "started_at_ms"
        case completedAtMs = "completed_at_ms"
        case batchID = "batch_id"
        case idempotencyKey = "idempotency_key"
    }
}
