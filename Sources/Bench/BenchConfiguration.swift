/// What `sluice bench` sends, where, and how hard.
public struct BenchConfiguration: Sendable, Hashable {
    /// The ingress to load. Default: `http://127.0.0.1:8080`.
    public var baseURL: String
    /// A submitter key of the tenant the jobs belong to. Default: `sk-sluice-demo`.
    public var apiKey: String
    /// Jobs to submit. Default: 10000.
    public var jobs: Int
    /// Requests in flight at once, for submitting and for polling. Default: 64.
    public var concurrency: Int
    /// The model every job asks for; it must be routed in the server's config. Default: `demo`.
    public var model: String
    /// Sent as the job's `priority` when set (`p0`, `p1`, `p2`). Default: none (the server's default).
    public var priority: String?
    /// Rough size of each prompt in bytes; prompts are whole sentences, unique per job, so
    /// that no cache or idempotency shortcut makes the run look faster. Default: 200.
    public var promptBytes: Int
    /// How long to keep polling for unfinished jobs after the last submission. Default: 300.
    public var completionTimeoutSeconds: Int

    public init(
        baseURL: String = "http://127.0.0.1:8080", apiKey: String = "sk-sluice-demo", jobs: Int = 10_000,
        concurrency: Int = 64, model: String = "demo", priority: String? = nil, promptBytes: Int = 200,
        completionTimeoutSeconds: Int = 300
    ) {
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.jobs = jobs
        self.concurrency = concurrency
        self.model = model
        self.priority = priority
        self.promptBytes = promptBytes
        self.completionTimeoutSeconds = completionTimeoutSeconds
    }
}
