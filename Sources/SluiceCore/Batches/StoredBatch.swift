/// A batch as the ledger keeps it, for both front doors (OpenAI Batch, Anthropic Message
/// Batches); each answers it in its own wire shape.
public struct StoredBatch: Sendable, Equatable {
    /// Which API created the batch: it decides the result files' format.
    public enum Kind: String, Sendable {
        case openai
        case anthropic
    }

    /// OpenAI's batch statuses (Anthropic's `processing_status` is derived from them).
    public enum Status: String, Sendable, CaseIterable {
        case validating, failed
        case inProgress = "in_progress"
        case finalizing, completed, expired, cancelling, cancelled

        /// No further change happens to a batch in this status.
        public var isTerminal: Bool {
            switch self {
            case .failed, .completed, .expired, .cancelled: true
            default: false
            }
        }
    }

    public var id: String
    public var tenant: String
    public var kind: Kind
    public var status: Status
    public var endpoint: String
    public var inputFileID: String
    public var completionWindow: String
    public var metadata: JSONValue?
    public var model: String?
    public var webhookURL: String?
    public var createdAtMs: Int64
    public var expiresAtMs: Int64
    public var inProgressAtMs: Int64?
    public var finalizingAtMs: Int64?
    public var completedAtMs: Int64?
    public var failedAtMs: Int64?
    public var expiredAtMs: Int64?
    public var cancellingAtMs: Int64?
    public var cancelledAtMs: Int64?
    public var outputFileID: String?
    public var errorFileID: String?
    /// `errors.data` when the input as a whole was refused: `[{code, message, param, line}]`.
    public var errors: JSONValue?
    /// Lines read so far (valid or not).
    public var total: Int
    /// Lines whose job succeeded.
    public var completed: Int
    /// Lines that failed: invalid lines plus jobs that failed.
    public var failed: Int
    /// Lines cancelled before they ran (known at the end).
    public var cancelledCount: Int
    /// Lines still unfinished when the batch expired (known at the end).
    public var expiredCount: Int
    /// Jobs queued for the batch's valid lines.
    public var jobCount: Int
    /// Whether every line of the input has been read and its job queued.
    public var ingested: Bool
    public var inputTokens: Int64
    public var outputTokens: Int64

    public init(
        id: String, tenant: String, kind: Kind, endpoint: String, inputFileID: String, completionWindow: String,
        metadata: JSONValue?, webhookURL: String? = nil, createdAtMs: Int64, expiresAtMs: Int64
    ) {
        self.id = id
        self.tenant = tenant
        self.kind = kind
        self.status = .validating
        self.endpoint = endpoint
        self.inputFileID = inputFileID
        self.completionWindow = completionWindow
        self.metadata = metadata
        self.webhookURL = webhookURL
        self.createdAtMs = createdAtMs
        self.expiresAtMs = expiresAtMs
        total = 0
        completed = 0
        failed = 0
        cancelledCount = 0
        expiredCount = 0
        jobCount = 0
        ingested = false
        inputTokens = 0
        outputTokens = 0
    }

    /// Lines without an outcome yet.
    public var processing: Int { max(0, total - completed - failed - cancelledCount - expiredCount) }

    /// A new batch id with the prefix of its API (`batch_…`, `msgbatch_…`).
    public static func newID(kind: Kind) -> String {
        let hex = String(UUIDv7.generate().filter { $0 != "-" })
        return kind == .openai ? "batch_" + hex : "msgbatch_" + hex
    }

    /// The job id of the batch's request on input line `line` (1-based, blank lines not
    /// counted): a pure function of batch and line, so that an ingest resumed after a crash
    /// names the same jobs (and can tell which are queued already) and a cancellation can name
    /// them all. The line rather than the count of valid lines before it: the id of a line does
    /// not depend on how the lines before it were judged.
    public static func jobID(batchID: String, line: Int) -> String {
        DerivedID.make("batch-line", batchID, String(line))
    }
}

/// One valid line of a batch and the job that runs it.
public struct BatchRequest: Sendable, Equatable {
    /// Orders the output file: the request's input line number.
    public var ordinal: Int
    public var customID: String
    public var jobID: String

    public init(ordinal: Int, customID: String, jobID: String) {
        self.ordinal = ordinal
        self.customID = customID
        self.jobID = jobID
    }
}

/// A terminal batch event on the results topic (header `sluice-schema: batch.v1`, key = batch
/// id), for the webhook workers: `{"batch_id","tenant","status","webhook_url"?}`.
public struct BatchEvent: Sendable, Equatable, JSONRepresentable {
    public static let schema = "batch.v1"

    public var batchID: String
    public var tenant: String
    public var status: String
    public var webhookURL: String?

    public init(batchID: String, tenant: String, status: String, webhookURL: String?) {
        self.batchID = batchID
        self.tenant = tenant
        self.status = status
        self.webhookURL = webhookURL
    }

    public init(json: JSONValue) throws(JSONShapeError) {
        let r = try JSONObjectReader(json, path: "batch")
        batchID = try r.string("batch_id")
        tenant = try r.string("tenant")
        status = try r.string("status")
        webhookURL = r.optional("webhook_url")?.stringValue
    }

    public var json: JSONValue {
        var w = JSONObjectWriter()
        w.set("batch_id", batchID)
        w.set("tenant", tenant)
        w.set("status", status)
        w.set("webhook_url", webhookURL)
        return w.json
    }
}
