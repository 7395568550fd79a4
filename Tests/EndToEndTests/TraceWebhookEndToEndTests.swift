import Foundation
import SluiceCore
import SluiceHTTP
import Testing

/// Trace context past the provider call: the webhook delivery carries the job's trace id in
/// `traceparent`, and retries, cancellations and webhook attempts are spans at the collector.
@Suite("End to end: traces of retries, cancellations and webhooks", .serialized, .timeLimit(.minutes(5)))
struct TraceWebhookEndToEndTests {
    @Test("the webhook receiver sees the job's trace id; retry, per-attempt call, cancel and delivery spans reach the collector")
    func webhookTraceAndSpans() async throws {
        let root = try Harness.repoRoot
        let secret = WebhookSecret.generate().text
        // Retries go through the retry topics (nothing waits locally), as after a real 429.
        let d = try Deployment(
            name: "trace-webhooks", workerSettings: ["local_retry_max_ms: 0", "max_attempts: 10"],
            extraYAML: WebhookEndToEndTests.webhooksYAML(secret: secret))
        let otlpPort = Harness.freePort()
        let spansFile = d.dir + "/otlp.jsonl"
        let collector = try SluiceProcess(
            name: "otlp-receiver", executable: root + "/.venv/bin/python",
            arguments: [root + "/scripts/otlp-receiver", "\(otlpPort)", spansFile], logPath: d.dir + "/otlp-receiver.log")
        defer { collector.kill() }
        try await waitUntil("the collector listens", timeout: .seconds(20)) { Harness.isListening(port: otlpPort) }
        try "\ntracing:\n  otlp_endpoint: http://127.0.0.1:\(otlpPort)\n  export_interval_ms: 200\n".appendLine(to: d.configPath)
        let received = d.dir + "/received.jsonl"
        try await d.applyTopics()
        try await d.startStub()
        // Every job's first call is refused with 429 and Retry-After: 1; the second succeeds.
        try await d.setStubFaults(["fail_first_calls": 1, "retry_after_seconds": 1])
        try await d.startSluice("serve", role: "serve")
        // Chosen just before use: a port picked at the start was taken by another suite's
        // process meanwhile once (the suites run in parallel), and the callbacks met its 404s.
        let hookPort = Harness.freePort()
        let receiver = try await WebhookEndToEndTests.startReceiver(d, port: hookPort, secret: secret, log: received)
        defer { receiver.kill() }

        // A job with a webhook, submitted under the client's trace.
        let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
        let clientSpan = "00f067aa0ba902b7"
        let body: JSONValue = [
            "model": "demo", "messages": [["role": "user", "content": "call me back"]],
            "webhook": ["url": .string("http://127.0.0.1:\(hookPort)/hook")],
        ]
        let response = try await d.submit(
            body: String(decoding: body.serialized(), as: UTF8.self), headers: [HTTPHeader("traceparent", "00-\(traceID)-\(clientSpan)-01")])
        #expect(response.status == 202, "\(response.bodyText)")
        let id = try #require(try JSONValue.parse(response.body)["id"]?.stringValue)
        try await d.awaitStatus(id, .succeeded)

        try await waitUntil("the webhook arrives", timeout: .seconds(60), interval: .milliseconds(300)) {
            Self.lines(received).contains { $0["subject"]?.stringValue == id && $0["verified"] == true }
        }
        let delivery = try #require(Self.lines(received).first { $0["subject"]?.stringValue == id && $0["verified"] == true })
        let sent = try #require(delivery["traceparent"]?.stringValue.flatMap(TraceContext.init(traceparent:)), "no traceparent: \(delivery)")
        #expect(sent.traceID == traceID)
        #expect(sent.spanID != clientSpan)

        // The spans of that job: two provider attempts, the retry between them, the delivery.
        try await waitUntil("the job's spans arrive", timeout: .seconds(30), interval: .milliseconds(300)) {
            let names = OTLPExportEndToEndTests.spans(in: spansFile).filter { $0["traceId"]?.stringValue == traceID }.compactMap { $0["name"]?.stringValue }
            return names.filter { $0 == "sluice.provider.call" }.count >= 2 && names.contains("sluice.job.retry")
                && names.contains("sluice.webhook.delivery")
        }
        let spans = OTLPExportEndToEndTests.spans(in: spansFile).filter { $0["traceId"]?.stringValue == traceID }
        let accept = try #require(spans.first { $0["name"] == "sluice.ingress.accept" })
        let calls = spans.filter { $0["name"] == "sluice.provider.call" }
        #expect(Set(calls.compactMap { Self.attributes($0)["sluice.attempt"] }) == ["1", "2"])
        #expect(calls.allSatisfy { $0["parentSpanId"] == accept["spanId"] })
        let retry = try #require(spans.first { $0["name"] == "sluice.job.retry" })
        #expect(Self.attributes(retry)["sluice.attempt"] == "1")
        #expect(Self.attributes(retry)["http.response.status_code"] == "429")
        #expect(retry["parentSpanId"] == accept["spanId"])
        // The delivery span is the one whose id the receiver saw, a child of the job's span.
        let webhook = try #require(spans.first { $0["name"] == "sluice.webhook.delivery" })
        #expect(webhook["spanId"]?.stringValue == sent.spanID)
        #expect(webhook["parentSpanId"] == accept["spanId"])
        #expect(Self.attributes(webhook)["http.response.status_code"] == "204")
        #expect(Self.attributes(webhook)["sluice.delivery_id"] == delivery["webhook_id"]?.stringValue)

        // A job cancelled while it waits in a retry topic: its cancellation is a span of its trace.
        try await d.setStubFaults(["rate_limit_rate": .double(1.0), "retry_after_seconds": 30])
        let cancelTrace = "0af7651916cd43dd8448eb211c80319c"
        let second = try await d.submit(
            body: #"{"model":"demo","messages":[{"role":"user","content":"cancel me"}]}"#,
            headers: [HTTPHeader("traceparent", "00-\(cancelTrace)-b7ad6b7169203331-01")])
        let cancelID = try #require(try JSONValue.parse(second.body)["id"]?.stringValue)
        try await d.awaitStatus(cancelID, .retrying)
        #expect(try await d.cancel(cancelID).status == 202)
        try await d.awaitCancelled(cancelID)
        try await waitUntil("the cancel span arrives", timeout: .seconds(30), interval: .milliseconds(300)) {
            OTLPExportEndToEndTests.spans(in: spansFile).contains { $0["traceId"]?.stringValue == cancelTrace && $0["name"] == "sluice.job.cancel" }
        }
        let cancel = try #require(
            OTLPExportEndToEndTests.spans(in: spansFile).first { $0["traceId"]?.stringValue == cancelTrace && $0["name"] == "sluice.job.cancel" })
        #expect(Self.attributes(cancel)["sluice.job_id"] == cancelID)
        let cancelAccept = OTLPExportEndToEndTests.spans(in: spansFile).first {
            $0["traceId"]?.stringValue == cancelTrace && $0["name"] == "sluice.ingress.accept"
        }
        #expect(cancel["parentSpanId"] == cancelAccept?["spanId"])
    }

    static func lines(_ path: String) -> [JSONValue] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONValue.parse(Array($0.utf8)) }
    }

    static func attributes(_ span: JSONValue) -> [String: String] {
        (span["attributes"]?.arrayValue ?? []).reduce(into: [String: String]()) {
            $0[$1["key"]?.stringValue ?? ""] = $1["value"]?["stringValue"]?.stringValue
        }
    }
}
