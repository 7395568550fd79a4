import Logging
import Metrics
import ServiceLifecycle
import SluiceCore
import SluiceHTTP
import Synchronization

/// Sends finished spans to an OpenTelemetry collector over OTLP/HTTP with JSON bodies
/// (`POST <endpoint>/v1/traces`).
///
/// ``record(_:)`` only appends to a bounded queue and never waits: a full queue drops the span
/// and counts it (`sluice_trace_spans_dropped_total`), because a slow or absent collector must
/// not slow jobs down. ``run()`` sends a batch every `export_interval_ms`, or sooner when
/// `batch_size` spans wait; a batch the collector refuses is dropped and counted
/// (`sluice_trace_export_failures_total`), not retried. Sent spans are counted in
/// `sluice_trace_spans_exported_total`. At shutdown what is queued is sent once.
public final class OTLPSpanExporter: Service, Sendable {
    private let configuration: TracingConfiguration
    private let endpoint: String
    private let http: CurlHTTPClient
    private let logger: Logger
    private let queue = Mutex<[FinishedSpan]>([])
    private let dropped = Counter(label: "sluice_trace_spans_dropped_total")
    private let exported = Counter(label: "sluice_trace_spans_exported_total")
    private let failures = Counter(label: "sluice_trace_export_failures_total")

    /// - Throws: when `otlp_endpoint` is not set or the HTTP client cannot start.
    public init(configuration: TracingConfiguration, logger: Logger) throws {
        guard let endpoint = configuration.otlpEndpoint else {
            throw TelemetryError("tracing.otlp_endpoint is not set")
        }
        self.configuration = configuration
        self.endpoint = (endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint) + "/v1/traces"
        self.http = try CurlHTTPClient(configuration: .init(connectTimeoutMs: min(configuration.exportTimeoutMs, 5_000)))
        self.logger = logger
    }

    /// Queues a span for export, or drops it when `queue_capacity` spans already wait.
    public func record(_ span: FinishedSpan) {
        let accepted = queue.withLock { queue -> Bool in
            guard queue.count < configuration.queueCapacity else { return false }
            queue.append(span)
            return true
        }
        if !accepted { dropped.increment() }
    }

    /// Spans waiting now (for tests).
    public var queued: Int { queue.withLock { $0.count } }

    public func run() async throws {
        await cancelWhenGracefulShutdown { await self.loop() }
        // Shutdown: what is queued goes once.
        while await sendBatch() {}
        http.shutdown()
    }

    /// Sends every `export_interval_ms`, or as soon as a full batch waits (looked at every 50 ms).
    private func loop() async {
        while !Task.isCancelled {
            var waitedMs = 0
            while waitedMs < configuration.exportIntervalMs, queued < configuration.batchSize {
                try? await Task.sleep(for: .milliseconds(50))
                if Task.isCancelled { return }
                waitedMs += 50
            }
            while !Task.isCancelled, await sendBatch() {}
        }
    }

    /// Sends up to `batch_size` queued spans; false when there were none.
    private func sendBatch() async -> Bool {
        let batch = queue.withLock { queue -> [FinishedSpan] in
            let taken = Array(queue.prefix(configuration.batchSize))
            queue.removeFirst(taken.count)
            return taken
        }
        guard !batch.isEmpty else { return false }
        let body = Self.body(batch, serviceName: configuration.serviceName)
        do {
            let response = try await http.execute(HTTPClientRequest(
                method: "POST", url: endpoint, headers: [HTTPHeader("Content-Type", "application/json")], body: body,
                timeoutMs: configuration.exportTimeoutMs))
            guard (200..<300).contains(response.status) else {
                throw TelemetryError("the collector answered \(response.status)")
            }
            exported.increment(by: batch.count)
        } catch {
            failures.increment()
            dropped.increment(by: batch.count)
            logger.warning("span export failed; the batch is dropped", metadata: ["spans": "\(batch.count)", "error": "\(error)"])
        }
        return true
    }

    // MARK: - OTLP JSON

    /// The OTLP/HTTP JSON body of one export request (ids in hex, times as decimal strings,
    /// as the OTLP JSON mapping asks).
    public static func body(_ spans: [FinishedSpan], serviceName: String) -> [UInt8] {
        func attributes(_ pairs: [String: String]) -> JSONValue {
            .array(pairs.sorted { $0.key < $1.key }.map { ["key": .string($0.key), "value": ["stringValue": .string($0.value)]] })
        }
        let encoded: [JSONValue] = spans.map { span in
            var fields: [String: JSONValue] = [
                "traceId": .string(span.context.traceID), "spanId": .string(span.context.spanID), "name": .string(span.name),
                "kind": .int(Int64(span.kind.rawValue)), "startTimeUnixNano": .string(String(span.startUnixNanos)),
                "endTimeUnixNano": .string(String(span.endUnixNanos)), "attributes": attributes(span.attributes),
                "status": ["code": .int(span.failed ? 2 : 1)],
            ]
            if let parent = span.parentSpanID { fields["parentSpanId"] = .string(parent) }
            return .object(fields)
        }
        let request: JSONValue = [
            "resourceSpans": [
                [
                    "resource": ["attributes": attributes(["service.name": serviceName])],
                    "scopeSpans": [["scope": ["name": "sluice"], "spans": .array(encoded)]],
                ]
            ]
        ]
        return request.serialized()
    }
}

public struct TelemetryError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
