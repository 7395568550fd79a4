import Foundation
import Kafka
import Synchronization
import SluiceCore
import SluiceHTTP
import Testing

/// Metrics read with Prometheus's own parser, trace context in the JSON logs of split
/// processes, and the operations port of the roles without the HTTP API.
@Suite("End to end: metrics, traces and logs", .serialized, .timeLimit(.minutes(6)))
struct ObservabilityEndToEndTests {
    @Test("/metrics parses with prometheus_client; lag, queue depth, latencies, tokens, breakers, ledger and HTTP counters move during a run")
    func metricsMoveDuringARun() async throws {
        // Two callers and a slow stub: a backlog builds up that the gauges must show.
        let d = try Deployment(name: "obs-metrics", workerConcurrency: 2)
        try await d.applyTopics()
        try await d.startStub(latencyMs: 300)
        try await d.startSluice("serve", role: "serve")

        let before = try await Self.scrape(d)
        #expect(before.sum("sluice_jobs_accepted_total") == 0)

        let accepted = try await d.submitAll((0..<30).map { (tenant: "acme", text: "Observability job \($0), reply briefly.") })
        for _ in 0..<3 { _ = try await d.submit(body: #"{"model":"no-such-model","messages":[{"role":"user","content":"x"}]}"#) }

        // While the backlog drains: the workers' lag and queue depth are above zero at some scrape.
        let seen = Seen()
        try await waitUntil("the backlog shows in lag and queue depth", timeout: .seconds(60), interval: .milliseconds(150)) {
            let now = try await Self.scrape(d)
            if now.sum("sluice_consumer_lag", ["group": "\(d.prefix)-workers"]) > 0 { seen.mark("lag") }
            if now.sum("sluice_worker_queue_depth") > 0 { seen.mark("queue") }
            return seen.has("lag") && seen.has("queue")
        }
        let jobs = try await d.awaitTerminal(accepted, timeout: .seconds(120))
        #expect(jobs.values.allSatisfy { $0["status"]?.stringValue == "succeeded" })

        // Once everything is finished the lag comes back to zero (and is still reported).
        try await waitUntil("the workers' lag is back to zero", timeout: .seconds(30)) {
            let now = try await Self.scrape(d)
            return now.has("sluice_consumer_lag", ["group": "\(d.prefix)-workers"])
                && now.sum("sluice_consumer_lag", ["group": "\(d.prefix)-workers"]) == 0
        }
        try await waitUntil("the ledger wrote every result", timeout: .seconds(30)) {
            try await Self.scrape(d).sum("sluice_ledger_records_written_total", ["kind": "result"]) >= 30
        }
        let after = try await Self.scrape(d)
        #expect(after.families["sluice_jobs_accepted"]?.type == "counter", "prometheus_client names a counter family without _total")
        #expect(after.sum("sluice_jobs_accepted_total", ["tenant": "acme"]) == 30)
        #expect(after.families["sluice_job_queue_wait_seconds"]?.type == "histogram")
        #expect(after.sum("sluice_job_queue_wait_seconds_count") >= 30)
        #expect(after.sum("sluice_job_latency_seconds_count", ["status": "succeeded"]) >= 30)
        #expect(after.sum("sluice_provider_latency_seconds_count") >= 30)
        #expect(after.sum("sluice_provider_attempts_total", ["outcome": "success"]) >= 30)
        #expect(after.sum("sluice_tokens_total", ["tenant": "acme", "model": "demo", "kind": "prompt"]) > 0)
        #expect(after.sum("sluice_tokens_total", ["tenant": "acme", "model": "demo", "kind": "completion"]) > 0)
        #expect(after.has("sluice_breaker_state"), "one gauge per configured deployment")
        #expect(after.sum("sluice_breaker_state") == 0, "closed")
        #expect(after.has("sluice_worker_calls_in_flight"))
        #expect(after.sum("sluice_ledger_batches_total") > 0)
        #expect(after.sum("sluice_ledger_batch_write_seconds_count") == after.sum("sluice_ledger_batches_total"))
        #expect(after.sum("sluice_http_responses_total", ["class": "2xx"]) >= 30)
        #expect(after.sum("sluice_http_responses_total", ["class": "4xx"]) >= 3)
        #expect(after.sum("sluice_http_responses_total", ["class": "5xx"]) == 0)
        #expect(after.has("sluice_consumer_lag", ["group": "\(d.prefix)-ledger"]), "the ledger's lag is reported too")
        // Bounded labels: no job id anywhere.
        let labelValues = after.families.values.flatMap(\.samples).flatMap(\.labels.values)
        #expect(!labelValues.contains { UUIDv7.isWellFormed($0) })
        #expect(seen.has("lag") && seen.has("queue"))
    }

    /// What a polling closure has seen so far.
    final class Seen: Sendable {
        private let marks = Mutex<Set<String>>([])
        func mark(_ what: String) { marks.withLock { _ = $0.insert(what) } }
        func has(_ what: String) -> Bool { marks.withLock { $0.contains(what) } }
    }

    @Test("a trace started at ingress carries one trace id through the ingress's, the worker's and the ledger's JSON logs; no prompt or key is logged")
    func traceThroughSplitProcesses() async throws {
        // A provider key the stub ignores: it must not reach the worker's log either.
        let providerKey = "sk-provider-secret-\(UUID().uuidString.prefix(8))"
        let d = try Deployment(name: "obs-trace", providers: """
            providers:
              - name: stub
                base_url: STUB/v1
                api_key: \(providerKey)
            routes:
              demo: {provider: stub}
            """)
        try ("\n" + "logging:\n  format: json\n").appendLine(to: d.configPath)
        try await d.applyTopics()
        try await d.startStub()
        let operationsPort = Harness.freePort()
        // Ledger first (the ingress reads its file), then ingress, then one worker.
        try d.start("ledger", ["ledger", "--config", d.configPath, "--log-level", "debug"])
        try await waitUntil("ledger created its database", timeout: .seconds(30)) { FileManager.default.fileExists(atPath: d.databasePath) }
        try d.start("ingress", ["ingress", "--config", d.configPath, "--log-level", "debug"])
        try await waitUntil("ingress answers /healthz", timeout: .seconds(60)) {
            (try? await d.http.execute(HTTPClientRequest(url: d.baseURL + "/healthz", timeoutMs: 1000)))?.status == 200
        }
        try d.start("worker", ["worker", "--config", d.configPath, "--log-level", "debug", "--operations-port", "\(operationsPort)"])

        let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
        let marker = "prompt-marker-\(UUID().uuidString)"
        let traced = try await d.submit(
            body: #"{"model":"demo","messages":[{"role":"user","content":"\#(marker)"}]}"#,
            headers: [HTTPHeader("traceparent", "00-\(traceID)-00f067aa0ba902b7-01")])
        #expect(traced.status == 202)
        let tracedID = try #require(try JSONValue.parse(traced.body)["id"]?.stringValue)
        // A job without a traceparent: the ingress starts its trace.
        let untraced = try await d.submitOne("no trace header \(marker)")
        try await d.awaitStatus(tracedID, .succeeded)
        try await d.awaitStatus(untraced, .succeeded)

        try await waitUntil("the ledger logged both results", timeout: .seconds(30)) {
            let lines = try Self.logLines(d, "ledger")
            return [tracedID, untraced].allSatisfy { id in lines.contains { $0["job_id"]?.stringValue == id && $0["message"]?.stringValue == "result recorded" } }
        }
        let ingress = try Self.logLines(d, "ingress")
        let worker = try Self.logLines(d, "worker")
        let ledger = try Self.logLines(d, "ledger")

        func lines(_ log: [JSONValue], job: String, message: String) -> [JSONValue] {
            log.filter { $0["job_id"]?.stringValue == job && $0["message"]?.stringValue == message }
        }
        // The client's trace: same trace id at each stage.
        for (log, message) in [(ingress, "job accepted"), (worker, "provider call finished"), (worker, "result published"), (ledger, "result recorded")] {
            let found = lines(log, job: tracedID, message: message)
            #expect(!found.isEmpty, "no '\(message)' line for the traced job")
            #expect(found.allSatisfy { $0["trace_id"]?.stringValue == traceID && $0["tenant"]?.stringValue == "acme" }, "\(found)")
        }
        // The trace the ingress started: a fresh id, the same one downstream.
        let started = try #require(lines(ingress, job: untraced, message: "job accepted").first?["trace_id"]?.stringValue)
        #expect(started.count == 32 && started != traceID)
        #expect(lines(worker, job: untraced, message: "result published").first?["trace_id"]?.stringValue == started)
        #expect(lines(ledger, job: untraced, message: "result recorded").first?["trace_id"]?.stringValue == started)

        // Neither prompt text nor API keys reach any log.
        for name in ["ingress", "worker", "ledger"] {
            let text = try String(contentsOfFile: "\(d.dir)/\(name).log", encoding: .utf8)
            #expect(!text.contains(marker), "\(name).log holds prompt text")
            #expect(!text.contains(Deployment.key(for: "acme")), "\(name).log holds an API key")
            #expect(!text.contains(providerKey), "\(name).log holds a provider key")
        }

        // The worker has no HTTP API; its operations port answers for it.
        let metrics = try await d.http.execute(HTTPClientRequest(url: "http://127.0.0.1:\(operationsPort)/metrics", timeoutMs: 5_000))
        #expect(metrics.status == 200)
        let parsed = try await Self.parse(metrics.bodyText)
        #expect(parsed.sum("sluice_provider_attempts_total", ["outcome": "success"]) >= 2)
        let ready = try await d.http.execute(HTTPClientRequest(url: "http://127.0.0.1:\(operationsPort)/readyz", timeoutMs: 5_000))
        #expect(ready.status == 200, "\(ready.bodyText)")
    }

    // MARK: - Helpers

    /// Every line of a process's log, each required to be one JSON object with the standard fields.
    static func logLines(_ d: Deployment, _ name: String) throws -> [JSONValue] {
        let text = try String(contentsOfFile: "\(d.dir)/\(name).log", encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            let json = try JSONValue.parse(Array(line.utf8))
            guard json["timestamp"]?.stringValue != nil, json["level"]?.stringValue != nil, json["message"]?.stringValue != nil else {
                throw HarnessError("\(name).log: a line without timestamp, level or message: \(line)")
            }
            return json
        }
    }

    static func scrape(_ d: Deployment) async throws -> PrometheusFamilies {
        let response = try await d.http.execute(HTTPClientRequest(url: d.baseURL + "/metrics", timeoutMs: 10_000))
        guard response.status == 200 else { throw HarnessError("/metrics answered \(response.status)") }
        return try await parse(response.bodyText)
    }

    /// Parses with prometheus_client (scripts/prom-parse); a text it refuses fails the test.
    static func parse(_ text: String) async throws -> PrometheusFamilies {
        let root = try Harness.repoRoot
        let (status, output, errors) = try await Tool.run(root + "/.venv/bin/python", [root + "/scripts/prom-parse"], input: text)
        guard status == 0 else { throw HarnessError("prometheus_client refused /metrics (\(status)): \(errors)") }
        return try PrometheusFamilies(json: try JSONValue.parse(Array(output.utf8)))
    }
}

/// What prometheus_client read: families by name (counters without their `_total`), samples
/// with their own names.
struct PrometheusFamilies {
    struct Sample {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    struct Family {
        var type: String
        var samples: [Sample]
    }

    var families: [String: Family]

    init(json: JSONValue) throws {
        var families: [String: Family] = [:]
        for (name, family) in json["families"]?.objectValue ?? [:] {
            let samples = (family["samples"]?.arrayValue ?? []).map { sample in
                Sample(
                    name: sample["name"]?.stringValue ?? "",
                    labels: (sample["labels"]?.objectValue ?? [:]).compactMapValues(\.stringValue),
                    value: sample["value"].flatMap { value -> Double? in
                        switch value {
                        case .int(let i): Double(i)
                        case .double(let d): d
                        default: nil
                        }
                    } ?? .nan)
            }
            families[name] = Family(type: family["type"]?.stringValue ?? "", samples: samples)
        }
        self.families = families
    }

    private func matching(_ name: String, _ labels: [String: String]) -> [Sample] {
        families.values.flatMap(\.samples).filter { sample in
            sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value }
        }
    }

    /// The sum of the samples named `name` whose labels include `labels`.
    func sum(_ name: String, _ labels: [String: String] = [:]) -> Double {
        matching(name, labels).reduce(0) { $0 + ($1.value.isNaN ? 0 : $1.value) }
    }

    func has(_ name: String, _ labels: [String: String] = [:]) -> Bool {
        !matching(name, labels).isEmpty
    }
}

/// Runs a program to its end and collects its output.
enum Tool {
    /// On threads of its own: a child (Chromium, Python) runs for seconds, and a test waiting
    /// for it must not hold one of the concurrency pool's threads (two on a 2-core machine).
    static func run(_ executable: String, _ arguments: [String], input: String? = nil) async throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe(), inPipe = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = inPipe
        try process.run()
        // Drain both pipes while writing, so a large output cannot block the child.
        async let stdout = DedicatedThread.run(name: "tool-stdout") { out.fileHandleForReading.readDataToEndOfFile() }
        async let stderr = DedicatedThread.run(name: "tool-stderr") { err.fileHandleForReading.readDataToEndOfFile() }
        try await DedicatedThread.run(name: "tool-stdin") {
            if let input { inPipe.fileHandleForWriting.write(Data(input.utf8)) }
            try inPipe.fileHandleForWriting.close()
        }
        let (outData, errData) = await (stdout, stderr)
        let status = await DedicatedThread.run(name: "tool-wait") { () -> Int32 in
            process.waitUntilExit()
            return process.terminationStatus
        }
        return (status, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }
}

extension String {
    /// Appends this text to a file.
    func appendLine(to path: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(utf8))
    }
}

/// Span export to a collector: a Python http.server stands in for it.
@Suite("End to end: OTLP export", .serialized, .timeLimit(.minutes(4)))
struct OTLPExportEndToEndTests {
    @Test("with tracing.otlp_endpoint set, the ingress, provider-call and ledger spans of a job reach the collector under the client's trace id")
    func spansReachTheCollector() async throws {
        let root = try Harness.repoRoot
        let d = try Deployment(name: "otlp")
        let port = Harness.freePort()
        let received = d.dir + "/otlp.jsonl"
        let receiver = try SluiceProcess(
            name: "otlp-receiver", executable: root + "/.venv/bin/python", arguments: [root + "/scripts/otlp-receiver", "\(port)", received],
            logPath: d.dir + "/otlp-receiver.log")
        defer { receiver.kill() }
        try await waitUntil("the receiver listens", timeout: .seconds(20)) { Harness.isListening(port: port) }
        try "\ntracing:\n  otlp_endpoint: http://127.0.0.1:\(port)\n  export_interval_ms: 200\n".appendLine(to: d.configPath)
        try await d.applyTopics()
        try await d.startStub()
        try await d.startSluice("serve", role: "serve")

        let traceID = "5af7651916cd43dd8448eb211c80319c"
        let clientSpan = "b7ad6b7169203331"
        let response = try await d.submit(
            body: #"{"model":"demo","messages":[{"role":"user","content":"trace me"}]}"#,
            headers: [HTTPHeader("traceparent", "00-\(traceID)-\(clientSpan)-01")])
        #expect(response.status == 202)
        let id = try #require(try JSONValue.parse(response.body)["id"]?.stringValue)
        try await d.awaitStatus(id, .succeeded)

        try await waitUntil("the three spans arrived", timeout: .seconds(30), interval: .milliseconds(300)) {
            let names = Set(Self.spans(in: received).filter { $0["traceId"]?.stringValue == traceID }.compactMap { $0["name"]?.stringValue })
            return names.isSuperset(of: ["sluice.ingress.accept", "sluice.provider.call", "sluice.ledger.record"])
        }
        let spans = Self.spans(in: received).filter { $0["traceId"]?.stringValue == traceID }
        func span(_ name: String) -> JSONValue? { spans.first { $0["name"]?.stringValue == name } }
        let accept = try #require(span("sluice.ingress.accept"))
        let call = try #require(span("sluice.provider.call"))
        let record = try #require(span("sluice.ledger.record"))
        // One tree: the client's span → ingress → provider call; the ledger under the ingress span.
        #expect(accept["parentSpanId"]?.stringValue == clientSpan)
        #expect(call["parentSpanId"] == accept["spanId"])
        #expect(record["parentSpanId"] == accept["spanId"])
        #expect(Set([accept, call, record].compactMap { $0["spanId"]?.stringValue }).count == 3)
        let attributes = (call["attributes"]?.arrayValue ?? []).reduce(into: [String: String]()) {
            $0[$1["key"]?.stringValue ?? ""] = $1["value"]?["stringValue"]?.stringValue
        }
        #expect(attributes["sluice.job_id"] == id)
        #expect(attributes["http.response.status_code"] == "200")
        for s in [accept, call, record] {
            let start = UInt64(s["startTimeUnixNano"]?.stringValue ?? "") ?? 0
            let end = UInt64(s["endTimeUnixNano"]?.stringValue ?? "") ?? 0
            #expect(start > 0 && end >= start)
        }
        let metrics = try await d.http.execute(HTTPClientRequest(url: d.baseURL + "/metrics", timeoutMs: 10_000))
        let parsed = try await ObservabilityEndToEndTests.parse(metrics.bodyText)
        #expect(parsed.sum("sluice_trace_spans_exported_total") >= 3)
        #expect(parsed.sum("sluice_trace_spans_dropped_total") == 0)
    }

    /// Every span in the receiver's file (one export request per line).
    static func spans(in path: String) -> [JSONValue] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONValue.parse(Array($0.utf8)) }.flatMap { request in
            (request["resourceSpans"]?.arrayValue ?? []).flatMap { ($0["scopeSpans"]?.arrayValue ?? []).flatMap { $0["spans"]?.arrayValue ?? [] } }
        }
    }
}
