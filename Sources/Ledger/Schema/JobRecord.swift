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
    /// The prompt-injection flags of `job.accepted` (`[{"field", "flag"}]`), as JSON text.
    var injectionFlags: String?
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
        case injectionFlags = "injection_flags"
    }
}

// MARK: - Hot path

/// Column by column, not through `Codable`: the ledger reads and writes a job row for every
/// batch that mentions the job, and GRDB's `Decodable`/`Encodable` records (a decoder, a
/// container and a dictionary of values per row) cost more than the SQLite work itself. `perf`
/// put them at about 6 % of `sluice serve`'s CPU.
extension JobRecord {
    init(row: Row) throws {
        id = try row.decode(forColumn: "id")
        tenant = try row.decode(forColumn: "tenant")
        status = try row.decode(forColumn: "status")
        statusAttempt = try row.decode(forColumn: "status_attempt")
        statusAtMs = try row.decode(forColumn: "status_at_ms")
        statusReplay = try row.decode(forColumn: "status_replay")
        model = try row.decode(forColumn: "model")
        priority = try row.decode(forColumn: "priority")
        attempts = try row.decode(forColumn: "attempts")
        createdAtMs = try row.decode(forColumn: "created_at_ms")
        startedAtMs = try row.decode(forColumn: "started_at_ms")
        completedAtMs = try row.decode(forColumn: "completed_at_ms")
        batchID = try row.decode(forColumn: "batch_id")
        metadata = try row.decode(forColumn: "metadata")
        idempotencyKey = try row.decode(forColumn: "idempotency_key")
        injectionFlags = try row.decode(forColumn: "injection_flags")
        accepted = try row.decode(forColumn: "accepted")
    }

    /// For `cachedStatement`: every column, `id` last (the same arguments serve both).
    static let insertSQL = """
        INSERT INTO jobs (tenant, status, status_attempt, status_at_ms, status_replay, model, priority, attempts,
            created_at_ms, started_at_ms, completed_at_ms, batch_id, metadata, idempotency_key, injection_flags, accepted, id)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """
    static let updateSQL = """
        UPDATE jobs SET tenant = ?, status = ?, status_attempt = ?, status_at_ms = ?, status_replay = ?, model = ?,
            priority = ?, attempts = ?, created_at_ms = ?, started_at_ms = ?, completed_at_ms = ?, batch_id = ?,
            metadata = ?, idempotency_key = ?, injection_flags = ?, accepted = ?
        WHERE id = ?
        """

    /// The arguments of ``insertSQL`` and ``updateSQL``.
    var rowArguments: StatementArguments {
        [
            tenant, status, statusAttempt, statusAtMs, statusReplay, model, priority, attempts, createdAtMs, startedAtMs,
            completedAtMs, batchID, metadata, idempotencyKey, injectionFlags, accepted, id,
        ]
    }
}
