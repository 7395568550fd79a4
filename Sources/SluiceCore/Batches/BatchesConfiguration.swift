/// Files and batches (config section `batches:`): where uploaded and result files live and how
/// large an input may be.
public struct BatchesConfiguration: Sendable, Decodable {
    /// Directory of uploaded and result files. Default: `files` beside the ledger database.
    public var filesDirectory: String?
    /// Largest upload, in bytes. Default: 209715200 (200 MB, OpenAI's batch input limit).
    public var maxFileBytes: Int
    /// Most lines (requests) in one batch. Default: 50000 (OpenAI's limit).
    public var maxLines: Int
    /// Jobs of one batch waiting for the broker's acknowledgement at once while a batch is
    /// ingested: enough to keep the producer's pipeline full. Default: 2000.
    public var ingestWindow: Int
    /// How often the ledger looks at running batches (progress, expiry, finalization).
    /// Default: 1000.
    public var finalizeIntervalMs: Int
    /// How long a cancelling batch waits for the results of its cancelled jobs before it ends
    /// `cancelled` anyway (lines still without a result are reported cancelled). Default: 600.
    public var cancelGraceSeconds: Int
    /// How long an ingest's hold on its batch lasts without renewal (it renews every third of
    /// it): after a process died mid-ingest, another batch service (or the same one restarted)
    /// resumes the batch once this has passed. Default: 30.
    public var ingestLeaseSeconds: Int

    public init(
        filesDirectory: String? = nil, maxFileBytes: Int = 200 << 20, maxLines: Int = 50_000, ingestWindow: Int = 2_000,
        finalizeIntervalMs: Int = 1_000, cancelGraceSeconds: Int = 600, ingestLeaseSeconds: Int = 30
    ) {
        self.filesDirectory = filesDirectory
        self.maxFileBytes = maxFileBytes
        self.maxLines = maxLines
        self.ingestWindow = ingestWindow
        self.finalizeIntervalMs = finalizeIntervalMs
        self.cancelGraceSeconds = cancelGraceSeconds
        self.ingestLeaseSeconds = ingestLeaseSeconds
    }

    /// `files_directory`, or its default beside the ledger database at `ledgerPath`.
    public func resolvedFilesDirectory(ledgerPath: String) -> String {
        if let filesDirectory, !filesDirectory.isEmpty { return filesDirectory }
        guard let slash = ledgerPath.lastIndex(of: "/") else { return "files" }
        return String(ledgerPath[...slash]) + "files"
    }

    enum CodingKeys: String, CodingKey {
        case filesDirectory = "files_directory", maxFileBytes = "max_file_bytes", maxLines = "max_lines"
        case ingestWindow = "ingest_window", finalizeIntervalMs = "finalize_interval_ms", cancelGraceSeconds = "cancel_grace_seconds"
        case ingestLeaseSeconds = "ingest_lease_seconds"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = BatchesConfiguration()
        filesDirectory = try c.decodeIfPresent(String.self, forKey: .filesDirectory)
        maxFileBytes = try c.decodeIfPresent(Int.self, forKey: .maxFileBytes) ?? d.maxFileBytes
        maxLines = try c.decodeIfPresent(Int.self, forKey: .maxLines) ?? d.maxLines
        ingestWindow = try c.decodeIfPresent(Int.self, forKey: .ingestWindow) ?? d.ingestWindow
        finalizeIntervalMs = try c.decodeIfPresent(Int.self, forKey: .finalizeIntervalMs) ?? d.finalizeIntervalMs
        cancelGraceSeconds = try c.decodeIfPresent(Int.self, forKey: .cancelGraceSeconds) ?? d.cancelGraceSeconds
        ingestLeaseSeconds = try c.decodeIfPresent(Int.self, forKey: .ingestLeaseSeconds) ?? d.ingestLeaseSeconds
    }

    /// One sentence per value out of range, naming the key.
    public func problems() -> [String] {
        var problems: [String] = []
        func check(_ key: String, _ value: Int, _ range: ClosedRange<Int>) {
            if !range.contains(value) {
                problems.append("batches.\(key) must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
            }
        }
        check("max_file_bytes", maxFileBytes, 1...(1 << 34))
        check("max_lines", maxLines, 1...10_000_000)
        check("ingest_window", ingestWindow, 1...100_000)
        check("finalize_interval_ms", finalizeIntervalMs, 10...3_600_000)
        check("cancel_grace_seconds", cancelGraceSeconds, 0...86_400)
        check("ingest_lease_seconds", ingestLeaseSeconds, 2...3_600)
        return problems
    }
}
