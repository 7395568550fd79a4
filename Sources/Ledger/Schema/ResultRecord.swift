import GRDB

/// A row of `results`: the first terminal outcome recorded for a job's latest run.
struct ResultRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "results"
    /// For `cachedStatement`: read on every poll.
    static let selectByJobID = "SELECT * FROM results WHERE job_id = ?"

    var jobID: String
    var tenant: String
    /// A `JobStatus` raw value.
    var status: String
    var attempt: Int
    var model: String
    var route: String?
    /// The provider's answer, as JSON text.
    var response: String?
    /// The `JobError`, as JSON text.
    var error: String?
    var promptTokens: Int?
    var completionTokens: Int?
    var totalTokens: Int?
    /// In `currency`; null when the model had no price (migration v4).
    var cost: Double?
    var currency: String?
    var startedAtMs: Int64
    var finishedAtMs: Int64
    /// Which run of the job (``SluiceCore/JobEnvelope/replay``) this outcome ended.
    var replay: Int

    enum CodingKeys: String, CodingKey {
        case tenant, status, attempt, model, route, response, error, cost, currency, replay
        case jobID = "job_id"
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
        case totalTokens = "total_tokens"
        case startedAtMs = "started_at_ms"
        case finishedAtMs = "finished_at_ms"
    }
}

// MARK: - Hot path

/// Column by column, like ``JobRecord``'s: one result row per finished job.
extension ResultRecord {
    init(row: Row) throws {
        jobID = try row.decode(forColumn: "job_id")
        tenant = try row.decode(forColumn: "tenant")
        status = try row.decode(forColumn: "status")
        attempt = try row.decode(forColumn: "attempt")
        model = try row.decode(forColumn: "model")
        route = try row.decode(forColumn: "route")
        response = try row.decode(forColumn: "response")
        error = try row.decode(forColumn: "error")
        promptTokens = try row.decode(forColumn: "prompt_tokens")
        completionTokens = try row.decode(forColumn: "completion_tokens")
        totalTokens = try row.decode(forColumn: "total_tokens")
        cost = try row.decode(forColumn: "cost")
        currency = try row.decode(forColumn: "currency")
        startedAtMs = try row.decode(forColumn: "started_at_ms")
        finishedAtMs = try row.decode(forColumn: "finished_at_ms")
        replay = try row.decode(forColumn: "replay")
    }

    /// For `cachedStatement`; `job_id` last, so that ``rowArguments`` serve both.
    static let insertIgnoringSQL = """
        INSERT OR IGNORE INTO results (tenant, status, attempt, model, route, response, error, prompt_tokens,
            completion_tokens, total_tokens, cost, currency, started_at_ms, finished_at_ms, replay, job_id)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """
    static let updateSQL = """
        UPDATE results SET tenant = ?, status = ?, attempt = ?, model = ?, route = ?, response = ?, error = ?,
            prompt_tokens = ?, completion_tokens = ?, total_tokens = ?, cost = ?, currency = ?, started_at_ms = ?,
            finished_at_ms = ?, replay = ?
        WHERE job_id = ?
        """

    var rowArguments: StatementArguments {
        [
            tenant, status, attempt, model, route, response, error, promptTokens, completionTokens, totalTokens, cost,
            currency, startedAtMs, finishedAtMs, replay, jobID,
        ]
    }
}
