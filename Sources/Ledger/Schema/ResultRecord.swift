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
