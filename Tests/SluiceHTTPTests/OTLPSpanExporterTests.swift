import Logging
import SluiceCore
import Telemetry
import Testing

@Suite("OTLP span exporter")
struct OTLPSpanExporterTests {
    static func span(_ n: Int) -> FinishedSpan {
        FinishedSpan(
            name: "s\(n)", context: TraceContext(traceID: "0af7651916cd43dd8448eb211c80319c", spanID: "b7ad6b716920333\(n % 10)"),
            parentSpanID: n == 0 ? nil : "00f067aa0ba902b7", kind: .client, startUnixNanos: 1_000, endUnixNanos: 2_000,
            attributes: ["sluice.job_id": "j\(n)"], failed: n == 1)
    }

    @Test("recording never waits: past queue_capacity, spans are dropped")
    func dropsWhenFull() throws {
        let exporter = try OTLPSpanExporter(
            configuration: TracingConfiguration(otlpEndpoint: "http://127.0.0.1:1", queueCapacity: 3), logger: Logger(label: "test"))
        for n in 0..<10 { exporter.record(Self.span(n)) }
        #expect(exporter.queued == 3)
    }

    @Test("the body is OTLP JSON: hex ids, decimal-string times, kind, status, attributes and service.name")
    func body() throws {
        let body = OTLPSpanExporter.body([Self.span(0), Self.span(1)], serviceName: "sluice-test")
        let json = try JSONValue.parse(body)
        let resource = try #require(json["resourceSpans"]?.arrayValue?.first)
        #expect(resource["resource"]?["attributes"]?.arrayValue?.first?["key"]?.stringValue == "service.name")
        #expect(resource["resource"]?["attributes"]?.arrayValue?.first?["value"]?["stringValue"]?.stringValue == "sluice-test")
        let spans = try #require(resource["scopeSpans"]?.arrayValue?.first?["spans"]?.arrayValue)
        #expect(spans.count == 2)
        #expect(spans[0]["traceId"]?.stringValue == "0af7651916cd43dd8448eb211c80319c")
        #expect(spans[0]["spanId"]?.stringValue == "b7ad6b7169203330")
        #expect(spans[0]["parentSpanId"] == nil)
        #expect(spans[1]["parentSpanId"]?.stringValue == "00f067aa0ba902b7")
        #expect(spans[0]["startTimeUnixNano"]?.stringValue == "1000")
        #expect(spans[0]["endTimeUnixNano"]?.stringValue == "2000")
        #expect(spans[0]["kind"]?.intValue == 3)
        #expect(spans[0]["status"]?["code"]?.intValue == 1)
        #expect(spans[1]["status"]?["code"]?.intValue == 2)
        #expect(spans[0]["attributes"]?.arrayValue?.first?["value"]?["stringValue"]?.stringValue == "j0")
    }

    @Test("an exporter needs an endpoint")
    func needsEndpoint() {
        #expect(throws: TelemetryError.self) { try OTLPSpanExporter(configuration: TracingConfiguration(), logger: Logger(label: "test")) }
    }
}
