/// The `logging:` section: how log lines are written.
public struct LoggingConfiguration: Sendable, Decodable, Equatable {
    /// `json`: one JSON object per line (for log shippers); `text`: swift-log's plain lines (for
    /// people); `auto`: text when standard error is a terminal, JSON otherwise. Default: `auto`.
    public var format: String

    public static let formats: Set<String> = ["json", "text", "auto"]

    public init(format: String = "auto") {
        self.format = format
    }

    enum CodingKeys: String, CodingKey {
        case format
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        format = try c.decodeIfPresent(String.self, forKey: .format) ?? "auto"
    }

    /// Whether lines are JSON, given whether standard error is a terminal.
    public func writesJSON(stderrIsTerminal: Bool) -> Bool {
        switch format {
        case "json": true
        case "text": false
        default: !stderrIsTerminal
        }
    }

    public func problems() -> [String] {
        Self.formats.contains(format) ? [] : ["logging.format must be one of json, text, auto, got '\(format)'"]
    }
}

/// The `tracing:` section: where spans go. Trace context is always carried (headers and log
/// lines); spans are exported only when `otlp_endpoint` is set.
public struct TracingConfiguration: Sendable, Decodable, Equatable {
    /// Base URL of an OTLP/HTTP collector (`http://collector:4318`); spans are POSTed as JSON to
    /// `<endpoint>/v1/traces`. Default: none (no export).
    public var otlpEndpoint: String?
    /// `service.name` of the exported spans. Default: `sluice`.
    public var serviceName: String
    /// Spans waiting for export; when full, new spans are dropped and counted
    /// (`sluice_trace_spans_dropped_total`), never waited for. Default: 2048.
    public var queueCapacity: Int
    /// Most spans in one export request. Default: 256.
    public var batchSize: Int
    /// How often a partial batch is sent. Default: 2000.
    public var exportIntervalMs: Int
    /// Timeout of one export request. Default: 5000.
    public var exportTimeoutMs: Int

    public init(
        otlpEndpoint: String? = nil, serviceName: String = "sluice", queueCapacity: Int = 2_048, batchSize: Int = 256,
        exportIntervalMs: Int = 2_000, exportTimeoutMs: Int = 5_000
    ) {
        self.otlpEndpoint = otlpEndpoint
        self.serviceName = serviceName
        self.queueCapacity = queueCapacity
        self.batchSize = batchSize
        self.exportIntervalMs = exportIntervalMs
        self.exportTimeoutMs = exportTimeoutMs
    }

    enum CodingKeys: String, CodingKey {
        case otlpEndpoint = "otlp_endpoint", serviceName = "service_name", queueCapacity = "queue_capacity"
        case batchSize = "batch_size", exportIntervalMs = "export_interval_ms", exportTimeoutMs = "export_timeout_ms"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = TracingConfiguration()
        otlpEndpoint = try c.decodeIfPresent(String.self, forKey: .otlpEndpoint).flatMap { $0.isEmpty ? nil : $0 }
        serviceName = try c.decodeIfPresent(String.self, forKey: .serviceName) ?? d.serviceName
        queueCapacity = try c.decodeIfPresent(Int.self, forKey: .queueCapacity) ?? d.queueCapacity
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? d.batchSize
        exportIntervalMs = try c.decodeIfPresent(Int.self, forKey: .exportIntervalMs) ?? d.exportIntervalMs
        exportTimeoutMs = try c.decodeIfPresent(Int.self, forKey: .exportTimeoutMs) ?? d.exportTimeoutMs
    }

    /// Every setting against its range, one sentence per problem naming the key.
    public func problems() -> [String] {
        var problems: [String] = []
        func check(_ key: String, _ value: Int, _ range: ClosedRange<Int>) {
            if !range.contains(value) {
                problems.append("tracing.\(key) must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
            }
        }
        check("queue_capacity", queueCapacity, 1...1_000_000)
        check("batch_size", batchSize, 1...10_000)
        check("export_interval_ms", exportIntervalMs, 10...600_000)
        check("export_timeout_ms", exportTimeoutMs, 100...300_000)
        if let endpoint = otlpEndpoint, !(endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://")) {
            problems.append("tracing.otlp_endpoint must be an http:// or https:// URL, got '\(endpoint)'")
        }
        if serviceName.isEmpty || serviceName.utf8.count > 128 {
            problems.append("tracing.service_name must be 1 to 128 bytes")
        }
        return problems
    }
}
