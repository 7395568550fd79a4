import Foundation
import SluiceCore
import SluiceHTTP
import Testing

/// `/healthz`, `/readyz` and `/metrics` of a running `sluice serve`.
@Suite("Operations endpoints end to end", .serialized)
struct OperationsEndToEndTests {
    @Test("/readyz: 200 with broker, ledger and workers up; 503 naming the broker when it stops; /healthz stays 200", .timeLimit(.minutes(5)))
    func readiness() async throws {
        let port = Harness.freePort()
        let brokerLogs = try Harness.tempDirectory("readyz-broker")
        let tansu = try Harness.tansu
        // A broker of this test's own, so that stopping it disturbs no other test.
        let broker = try SluiceProcess(
            name: "tansu", executable: tansu,
            arguments: ["broker", "--listener-url", "tcp://127.0.0.1:\(port)", "--advertised-listener-url", "tcp://127.0.0.1:\(port)"],
            logPath: "\(brokerLogs)/tansu.log"
        )
        defer { broker.kill() }
        try await waitUntil("the broker listens", timeout: .seconds(20)) { Harness.isListening(port: port) }

        let d = try Deployment(name: "readyz", bootstrap: "127.0.0.1:\(port)")
        try await d.applyTopics()
        try await d.startStub()
        try await d.startSluice("serve", role: "serve")

        try await waitUntil("serve is ready", timeout: .seconds(60), interval: .milliseconds(500)) {
            try await Self.readyz(d).status == 200
        }
        let ready = try await Self.readyz(d)
        #expect(ready.json["status"]?.stringValue == "ready")
        let names = Set((ready.json["checks"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue })
        #expect(names == ["broker", "ledger", "workers", "webhooks"], "checks: \(ready.json)")
        #expect((ready.json["checks"]?.arrayValue ?? []).allSatisfy { $0["ok"] == .bool(true) })

        broker.kill()
        _ = await broker.exitStatus()
        try await waitUntil("readyz answers 503", timeout: .seconds(60), interval: .milliseconds(500)) {
            try await Self.readyz(d).status == 503
        }
        let notReady = try await Self.readyz(d)
        #expect(notReady.json["status"]?.stringValue == "not_ready")
        let brokerCheck = (notReady.json["checks"]?.arrayValue ?? []).first { $0["name"]?.stringValue == "broker" }
        #expect(brokerCheck?["ok"] == .bool(false), "body: \(notReady.json)")
        #expect(brokerCheck?["error"]?.stringValue?.isEmpty == false)
        // The ledger file is still fine: only the failing check is named as failing.
        let ledgerCheck = (notReady.json["checks"]?.arrayValue ?? []).first { $0["name"]?.stringValue == "ledger" }
        #expect(ledgerCheck?["ok"] == .bool(true), "body: \(notReady.json)")

        let health = try await d.http.execute(HTTPClientRequest(url: d.baseURL + "/healthz", timeoutMs: 5_000))
        #expect(health.status == 200)
        #expect(d.processes["serve"]?.isRunning == true)
    }

    @Test("/metrics parses as Prometheus text; accepted equals the 202s; results, provider calls and latencies move", .timeLimit(.minutes(5)))
    func metrics() async throws {
        let d = try Deployment(name: "metrics")
        try await d.applyTopics()
        try await d.startStub()
        try await d.startSluice("serve", role: "serve")

        let before = try PrometheusText.parse(try await Self.scrape(d))
        #expect(before.sum("sluice_jobs_accepted_total") == 0)

        let accepted = try await d.submitAll((0..<12).map { (tenant: "acme", text: "Metrics job \($0). Say something.") })
        #expect(accepted.count == 12)
        for _ in 0..<3 {
            let response = try await d.submit(body: #"{"model":"no-such-model","messages":[{"role":"user","content":"x"}]}"#)
            #expect(response.status == 400)
        }
        let jobs = try await d.awaitTerminal(accepted, timeout: .seconds(120))
        #expect(jobs.values.allSatisfy { $0["status"]?.stringValue == "succeeded" })

        let after = try PrometheusText.parse(try await Self.scrape(d))
        #expect(after.types["sluice_jobs_accepted_total"] == "counter")
        #expect(after.sum("sluice_jobs_accepted_total") == 12)
        #expect(after.sum("sluice_jobs_accepted_total", ["tenant": "acme", "priority": "p1"]) == 12)
        #expect(after.sum("sluice_jobs_rejected_total") == 3)
        // At-least-once: a redelivered job may publish its result again, never fewer.
        #expect(after.sum("sluice_results_total", ["status": "succeeded", "tenant": "acme"]) >= 12)
        #expect(after.sum("sluice_provider_attempts_total", ["outcome": "success"]) >= 12)
        #expect(after.types["sluice_provider_latency_seconds"] == "histogram")
        #expect(after.sum("sluice_provider_latency_seconds_count") >= 12)
        #expect(after.sum("sluice_job_latency_seconds_count", ["status": "succeeded"]) >= 12)
        // Every job's end-to-end latency is within the histogram's +Inf bucket, and buckets only grow.
        #expect(after.sum("sluice_job_latency_seconds_bucket", ["status": "succeeded", "le": "+Inf"]) == after.sum("sluice_job_latency_seconds_count", ["status": "succeeded"]))
        #expect(after.isCumulative("sluice_job_latency_seconds_bucket"))
        try await waitUntil("the ledger wrote the results", timeout: .seconds(30)) {
            let now = try PrometheusText.parse(try await Self.scrape(d))
            return now.sum("sluice_ledger_records_written_total", ["kind": "result"]) >= 12
        }
        #expect(after.types["sluice_consumer_in_flight"] == "gauge")
        #expect(after.samples.allSatisfy { sample in !sample.labels.values.contains { UUIDv7.isWellFormed($0) } }, "no job ids as labels")
    }

    // MARK: - Helpers

    static func readyz(_ d: Deployment) async throws -> (status: Int, json: JSONValue) {
        let response = try await d.http.execute(HTTPClientRequest(url: d.baseURL + "/readyz", timeoutMs: 10_000))
        return (response.status, try JSONValue.parse(response.body))
    }

    static func scrape(_ d: Deployment) async throws -> String {
        let response = try await d.http.execute(HTTPClientRequest(url: d.baseURL + "/metrics", timeoutMs: 10_000))
        guard response.status == 200 else { throw HarnessError("/metrics answered \(response.status)") }
        #expect(response.header("content-type")?.hasPrefix("text/plain") == true)
        return response.bodyText
    }
}

/// A strict reader of the Prometheus text exposition format (0.0.4): `# HELP`, `# TYPE` and
/// sample lines; anything else is an error, as is a sample whose family has no TYPE.
struct PrometheusText {
    struct Sample {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    var types: [String: String] = [:]
    var samples: [Sample] = []

    struct ParseError: Error, CustomStringConvertible {
        var description: String
    }

    static func parse(_ text: String) throws -> PrometheusText {
        var result = PrometheusText()
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            func fail(_ why: String) -> ParseError { ParseError(description: "line \(number + 1) '\(line)': \(why)") }
            if line.hasPrefix("#") {
                let parts = line.split(separator: " ", maxSplits: 3)
                guard parts.count >= 3, parts[0] == "#" else { throw fail("malformed comment") }
                if parts[1] == "TYPE" {
                    guard parts.count == 4, ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[3]) else {
                        throw fail("bad TYPE")
                    }
                    result.types[String(parts[2])] = String(parts[3])
                }
                continue
            }
            var rest = Substring(line)
            let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" }
            guard let first = name.first, !first.isNumber else { throw fail("bad metric name") }
            rest = rest.dropFirst(name.count)
            var labels: [String: String] = [:]
            if rest.first == "{" {
                rest = rest.dropFirst()
                while rest.first != "}" {
                    let label = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
                    guard !label.isEmpty else { throw fail("bad label name") }
                    rest = rest.dropFirst(label.count)
                    guard rest.hasPrefix("=\"") else { throw fail("expected =\"") }
                    rest = rest.dropFirst(2)
                    var value = ""
                    while true {
                        guard let c = rest.popFirst() else { throw fail("unterminated label value") }
                        if c == "\"" { break }
                        if c == "\\" {
                            guard let escaped = rest.popFirst() else { throw fail("bad escape") }
                            switch escaped {
                            case "\\": value.append("\\")
                            case "\"": value.append("\"")
                            case "n": value.append("\n")
                            default: throw fail("bad escape \\\(escaped)")
                            }
                        } else {
                            value.append(c)
                        }
                    }
                    guard labels.updateValue(value, forKey: String(label)) == nil else { throw fail("duplicate label") }
                    if rest.first == "," { rest = rest.dropFirst() }
                }
                rest = rest.dropFirst()
            }
            let fields = rest.split(separator: " ")
            guard fields.count == 1 || fields.count == 2 else { throw fail("expected a value and an optional timestamp") }
            let valueText = String(fields[0])
            let value: Double
            switch valueText {
            case "+Inf": value = .infinity
            case "-Inf": value = -.infinity
            case "NaN": value = .nan
            default:
                guard let parsed = Double(valueText) else { throw fail("bad value") }
                value = parsed
            }
            let family = ["_bucket", "_count", "_sum"].reduce(String(name)) { family, suffix in
                family.hasSuffix(suffix) && result.types[String(family.dropLast(suffix.count))] != nil ? String(family.dropLast(suffix.count)) : family
            }
            guard result.types[family] != nil else { throw fail("sample without a TYPE line") }
            result.samples.append(Sample(name: String(name), labels: labels, value: value))
        }
        return result
    }

    /// The sum of the samples of `name` whose labels include `matching`.
    func sum(_ name: String, _ matching: [String: String] = [:]) -> Double {
        samples.filter { sample in sample.name == name && matching.allSatisfy { sample.labels[$0.key] == $0.value } }
            .reduce(0) { $0 + $1.value }
    }

    /// Whether every series of a histogram's buckets grows with `le`.
    func isCumulative(_ bucketName: String) -> Bool {
        var series: [[String: String]: [(Double, Double)]] = [:]
        for sample in samples where sample.name == bucketName {
            guard let le = sample.labels["le"], let bound = le == "+Inf" ? Double.infinity : Double(le) else { return false }
            var key = sample.labels
            key["le"] = nil
            series[key, default: []].append((bound, sample.value))
        }
        return !series.isEmpty && series.values.allSatisfy { buckets in
            let sorted = buckets.sorted { $0.0 < $1.0 }
            return zip(sorted, sorted.dropFirst()).allSatisfy { $0.1 <= $1.1 }
        }
    }
}
