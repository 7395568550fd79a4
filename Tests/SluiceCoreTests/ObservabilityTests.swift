import Foundation
import Logging
import SluiceCore
import Synchronization
import Testing

@Suite("Trace context, JSON log lines, logging and tracing configuration")
struct ObservabilityTests {
    static let sample = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

    @Test("a well-formed traceparent is read; its child keeps the trace id and gets a new span id")
    func parsesAndContinues() throws {
        let context = try #require(TraceContext(traceparent: Self.sample))
        #expect(context.traceID == "0af7651916cd43dd8448eb211c80319c")
        #expect(context.spanID == "b7ad6b7169203331")
        #expect(context.sampled)
        #expect(context.traceparent == Self.sample)
        let child = context.child()
        #expect(child.traceID == context.traceID)
        #expect(child.spanID != context.spanID)
        #expect(TraceContext(traceparent: child.traceparent) == child)
        let continued = TraceContext.continuing(Self.sample)
        #expect(continued.traceID == context.traceID)
        // Upper case is read (and written back in lower case).
        #expect(TraceContext(traceparent: Self.sample.uppercased())?.traceID == context.traceID)
    }

    @Test(
        "malformed traceparents are refused and a new trace starts",
        arguments: [
            "", "00", "garbage", Self.sample + "x", String(Self.sample.dropLast()),
            "00-00000000000000000000000000000000-b7ad6b7169203331-01",  // all-zero trace id
            "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",  // all-zero span id
            "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",  // forbidden version
            "00-0af7651916cd43dd8448eb211c80319g-b7ad6b7169203331-01",  // not hex
            "00_0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "00-０af7651916cd43dd8448eb211c80319-b7ad6b7169203331-01",  // fullwidth digit
        ])
    func refusesMalformed(_ header: String) {
        #expect(TraceContext(traceparent: header) == nil)
        let started = TraceContext.continuing(header)
        #expect(TraceContext(traceparent: started.traceparent) == started)
        #expect(started.traceID != "00000000000000000000000000000000")
    }

    @Test("a later version's header is read by its first four fields")
    func laterVersion() {
        let later = "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra"
        #expect(TraceContext(traceparent: later)?.traceID == "0af7651916cd43dd8448eb211c80319c")
        #expect(TraceContext(traceparent: Self.sample + "-extra") == nil, "version 00 has exactly four fields")
    }

    @Test("a JSON log line is one object with the standard fields first and metadata as strings; control characters are escaped")
    func jsonLine() throws {
        let bytes = JSONLogHandler.line(
            timestamp: "2026-12-03T17:00:00.000Z", level: .warning, label: "sluice.test",
            message: "line one\nline \"two\"\u{1}", metadata: ["job_id": "j1", "trace_id": "abc", "level": "forged", "n": .stringConvertible(42)],
            source: "Test", file: "Tests/x.swift", line: 7)
        #expect(bytes.last == UInt8(ascii: "\n"))
        #expect(bytes.dropLast().contains(UInt8(ascii: "\n")) == false, "one line")
        let json = try JSONValue.parse(bytes.dropLast())
        #expect(json["timestamp"]?.stringValue == "2026-12-03T17:00:00.000Z")
        #expect(json["level"]?.stringValue == "warning", "metadata cannot override a standard field")
        #expect(json["logger"]?.stringValue == "sluice.test")
        #expect(json["message"]?.stringValue == "line one\nline \"two\"\u{1}")
        #expect(json["job_id"]?.stringValue == "j1")
        #expect(json["trace_id"]?.stringValue == "abc")
        #expect(json["n"]?.stringValue == "42")
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix(#"{"timestamp":"2026-12-03T17:00:00.000Z","level":"warning","logger":"sluice.test","message":"#))
    }

    @Test("timestamps are RFC 3339 UTC with milliseconds")
    func timestamp() {
        let stamp = JSONLogHandler.timestamp()
        #expect(stamp.count == 24)
        #expect(stamp.hasSuffix("Z"))
        #expect(Array(stamp)[10] == "T")
    }

    @Test("a job's logger carries its id, tenant and trace id, and no trace id for a malformed header")
    func jobLogger() {
        var job = JobEnvelope(
            id: "job-1", tenant: "acme", model: "demo", priority: .p1, request: ["messages": []], createdAtMs: 0,
            traceparent: Self.sample)
        let logger = Logger(label: "t").forJob(job)
        #expect(logger[metadataKey: "job_id"] == "job-1")
        #expect(logger[metadataKey: "tenant"] == "acme")
        #expect(logger[metadataKey: "trace_id"] == "0af7651916cd43dd8448eb211c80319c")
        job.traceparent = "nonsense"
        #expect(Logger(label: "t").forJob(job)[metadataKey: "trace_id"] == nil)
    }

    /// The lines logged through a ``CapturingHandler``.
    final class Lines: Sendable {
        let value = Mutex<[(message: String, metadata: Logger.Metadata)]>([])
    }

    /// Keeps the lines logged through it.
    struct CapturingHandler: LogHandler {
        let lines: Lines
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
            lines.value.withLock { $0.append((event.message.description, merged)) }
        }
    }

    @Test("a debug line about a job carries its ids at debug level; at info it is not even built")
    func jobDebugLine() {
        let job = JobEnvelope(
            id: "job-1", tenant: "acme", model: "demo", priority: .p1, request: ["messages": []], createdAtMs: 0,
            traceparent: Self.sample)
        for level in [Logger.Level.debug, .info] {
            let lines = Lines()
            let logger = Logger(label: "t") { _ in CapturingHandler(lines: lines, logLevel: level) }
            var built = false
            logger.debug(job: job, "job accepted", metadata: { built = true; return ["model": "demo"] }())
            let written = lines.value.withLock { $0 }
            if level == .debug {
                #expect(built)
                #expect(written.count == 1)
                #expect(written.first?.message == "job accepted")
                #expect(written.first?.metadata["job_id"] == "job-1")
                #expect(written.first?.metadata["tenant"] == "acme")
                #expect(written.first?.metadata["trace_id"] == "0af7651916cd43dd8448eb211c80319c")
                #expect(written.first?.metadata["model"] == "demo")
            } else {
                #expect(!built, "metadata of a dropped line is not evaluated")
                #expect(written.isEmpty)
            }
        }
    }

    @Test("logging.format is json, text or auto; auto is text on a terminal and JSON otherwise")
    func loggingFormat() {
        #expect(LoggingConfiguration().writesJSON(stderrIsTerminal: false))
        #expect(!LoggingConfiguration().writesJSON(stderrIsTerminal: true))
        #expect(LoggingConfiguration(format: "json").writesJSON(stderrIsTerminal: true))
        #expect(!LoggingConfiguration(format: "text").writesJSON(stderrIsTerminal: false))
        #expect(LoggingConfiguration(format: "xml").problems().first?.contains("logging.format") == true)
    }

    @Test("tracing settings out of range are named by key")
    func tracingRanges() {
        #expect(TracingConfiguration().problems().isEmpty)
        let bad = TracingConfiguration(otlpEndpoint: "collector:4318", queueCapacity: 0, batchSize: 100_000, exportIntervalMs: 1, exportTimeoutMs: 0)
        let problems = bad.problems().joined(separator: "; ")
        for key in ["tracing.queue_capacity", "tracing.batch_size", "tracing.export_interval_ms", "tracing.export_timeout_ms", "tracing.otlp_endpoint"] {
            #expect(problems.contains(key), "\(key) in \(problems)")
        }
        var configuration = SluiceConfiguration()
        configuration.tracing = bad
        #expect(configuration.problems().contains { $0.hasPrefix("tracing.queue_capacity") })
    }

    @Test("a configuration's description names no API key, of a tenant or of a provider")
    func redacted() throws {
        let yaml = #"""
            {"tenants": [{"id": "acme", "keys": [{"key": "sk-sluice-secret-tenant-key", "role": "admin"}]}],
             "providers": [{"name": "p", "kind": "openai", "base_url": "http://x/v1", "api_key": "sk-secret-provider-key"}]}
            """#
        let configuration = try JSONDecoder().decode(SluiceConfiguration.self, from: Data(yaml.utf8))
        for text in [String(describing: configuration), String(reflecting: configuration), "\(configuration.tenants)", "\(configuration.providers)"] {
            #expect(!text.contains("sk-sluice-secret-tenant-key"))
            #expect(!text.contains("sk-secret-provider-key"))
            #expect(text.contains("<redacted>"))
        }
    }

    @Test("tenant labels are capped: past the cap, new tenants share 'other'")
    func tenantCap() {
        let first = MetricLabels.tenant("cap-test-first")
        #expect(first == "cap-test-first")
        for n in 0..<(MetricLabels.maxTenants + 5) { _ = MetricLabels.tenant("cap-test-\(n)") }
        #expect(MetricLabels.tenant("cap-test-late-comer") == "other")
        #expect(MetricLabels.tenant("cap-test-first") == "cap-test-first", "a tenant labelled before keeps its label")
    }
}
