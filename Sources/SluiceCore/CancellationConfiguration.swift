/// How a worker remembers cancelled jobs (config section `cancellation:`; see the Workers
/// module's `CancelledJobs`).
public struct CancellationConfiguration: Sendable, Decodable {
    /// Most cancelled job ids kept per process (about 100 bytes each). Default: 100000.
    public var maxJobs: Int
    /// Cancellations older than this are forgotten: no job waits in a topic longer than its
    /// retention (7 days). Default: 604800000.
    public var maxAgeMs: Int
    /// How long a starting worker waits to read the control topic before it runs jobs
    /// anyway (and logs that cancellations may be missed). Default: 30000.
    public var catchUpTimeoutMs: Int

    public init(maxJobs: Int = 100_000, maxAgeMs: Int = 604_800_000, catchUpTimeoutMs: Int = 30_000) {
        self.maxJobs = maxJobs
        self.maxAgeMs = maxAgeMs
        self.catchUpTimeoutMs = catchUpTimeoutMs
    }

    enum CodingKeys: String, CodingKey {
        case maxJobs = "max_jobs", maxAgeMs = "max_age_ms", catchUpTimeoutMs = "catch_up_timeout_ms"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = CancellationConfiguration()
        maxJobs = try c.decodeIfPresent(Int.self, forKey: .maxJobs) ?? d.maxJobs
        maxAgeMs = try c.decodeIfPresent(Int.self, forKey: .maxAgeMs) ?? d.maxAgeMs
        catchUpTimeoutMs = try c.decodeIfPresent(Int.self, forKey: .catchUpTimeoutMs) ?? d.catchUpTimeoutMs
    }

    /// One sentence per value out of range, naming the key.
    public func problems() -> [String] {
        var problems: [String] = []
        if !(1...10_000_000).contains(maxJobs) { problems.append("cancellation.max_jobs must be between 1 and 10000000, got \(maxJobs)") }
        if !(60_000...31_536_000_000).contains(maxAgeMs) {
            problems.append("cancellation.max_age_ms must be between 60000 and 31536000000, got \(maxAgeMs)")
        }
        if !(0...600_000).contains(catchUpTimeoutMs) {
            problems.append("cancellation.catch_up_timeout_ms must be between 0 and 600000, got \(catchUpTimeoutMs)")
        }
        return problems
    }
}
