import Foundation
import SluiceCore
import SluiceHTTP
import Testing

/// Webhooks and synchronous completions through real processes: `sluice serve`, the stub
/// provider, the dev broker, a receiver that verifies signatures with the Standard Webhooks
/// Python library, and the official `openai` package.
@Suite("Webhooks and sync completions end to end", .serialized)
struct WebhookEndToEndTests {
    static var python: String { get throws { try Harness.repoRoot + "/.venv/bin/python" } }
    static var scripts: String { get throws { try Harness.repoRoot + "/scripts/testing" } }

    /// `webhooks:` for tenant acme (loopback over http allowed, as in the demo) and tenant
    /// strict (nothing allowed), with a schedule in seconds.
    static func webhooksYAML(secret: String, schedule: [String]? = nil) -> String {
        let schedule = (schedule ?? ["0s"] + Array(repeating: "1s", count: 4) + Array(repeating: "2s", count: 25))
            .map { "\"\($0)\"" }.joined(separator: ", ")
        return [
            "webhooks:",
            "  retry_schedule: [\(schedule)]",
            // The per-endpoint breaker stays closed here: an open breaker defers deliveries
            // without an attempt (its own tests cover that), and this test wants every callback
            // of the outage to fail and be retried (under load the default one opened).
            "  breaker: {min_requests: 100000}",
            "  timeout_ms: 3000",
            "  tenants:",
            "    acme:",
            "      secrets: [\"\(secret)\"]",
            "      allow_http: true",
            "      allow_cidrs: [\"127.0.0.0/8\"]",
            "    strict:",
            "      secrets: [\"\(secret)\"]",
        ].joined(separator: "\n")
    }

    /// One line per request the receiver got.
    struct Received: Sendable {
        var webhookID: String
        var type: String?
        var subject: String?
        var verified: Bool
    }

    static func received(_ path: String) -> [Received] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard let json = try? JSONValue.parse(Array(line.utf8)) else { return nil }
            return Received(
                webhookID: json["webhook_id"]?.stringValue ?? "", type: json["type"]?.stringValue, subject: json["subject"]?.stringValue,
                verified: json["verified"] == .bool(true))
        }
    }

    static func startReceiver(_ d: Deployment, port: Int, secret: String, log: String) async throws -> SluiceProcess {
        let process = try SluiceProcess(
            name: "receiver", executable: try python, arguments: [try scripts + "/webhook-receiver.py", "\(port)", secret, log],
            logPath: d.dir + "/receiver.log")
        try await waitUntil("the receiver listens", timeout: .seconds(20)) { Harness.isListening(port: port) }
        return process
    }

    /// `sluice serve` and the stub, with ``webhooksYAML(secret:)``; the signing secret and a
    /// free port for the receiver.
    static func servedWithWebhooks(
        _ name: String, tenants: [String], schedule: [String]? = nil
    ) async throws -> (Deployment, secret: String, receiverPort: Int) {
        let secret = WebhookSecret.generate().text
        let d = try Deployment(name: name, tenants: tenants, extraYAML: Self.webhooksYAML(secret: secret, schedule: schedule))
        try await d.applyTopics()
        try await d.startStub()
        try await d.startSluice("serve", role: "serve")
        return (d, secret, Harness.freePort())
    }

    static func submit(_ d: Deployment, tenant: String? = nil, webhook: String, text: String) async throws -> HTTPClientResponse {
        let body: JSONValue = [
            "model": "demo", "messages": [["role": "user", "content": .string(text)]], "webhook": ["url": .string(webhook)],
        ]
        return try await d.submit(tenant: tenant, body: String(decoding: body.serialized(), as: UTF8.self))
    }

    @Test("every job event arrives once per webhook-id, signed; while the receiver is down deliveries wait and then arrive", .timeLimit(.minutes(5)))
    func deliveriesSurviveADownReceiver() async throws {
        let (d, secret, port) = try await Self.servedWithWebhooks("webhooks", tenants: ["acme", "strict"])
        let log = d.dir + "/received.jsonl"
        let hook = "http://127.0.0.1:\(port)/hook"
        var receiver = try await Self.startReceiver(d, port: port, secret: secret, log: log)
        defer { receiver.kill() }

        var jobs: Set<String> = []
        for i in 0..<15 {
            let response = try await Self.submit(d, webhook: hook, text: "First wave \(i): a webhook tells me when this is done.")
            #expect(response.status == 202, "\(response.bodyText)")
            if let id = try JSONValue.parse(response.body)["id"]?.stringValue { jobs.insert(id) }
        }
        let firstWave = jobs
        try await waitUntil("the first wave is delivered", timeout: .seconds(90), interval: .milliseconds(500)) {
            Set(Self.received(log).filter(\.verified).compactMap(\.subject)).isSuperset(of: firstWave)
        }

        // The receiver goes away; the next jobs finish, and their callbacks fail and wait.
        receiver.kill()
        _ = await receiver.exitStatus()
        var second: Set<String> = []
        for i in 0..<10 {
            let response = try await Self.submit(d, webhook: hook, text: "Second wave \(i), sent while nobody listens.")
            #expect(response.status == 202, "\(response.bodyText)")
            if let id = try JSONValue.parse(response.body)["id"]?.stringValue { second.insert(id) }
        }
        let secondWave = second
        _ = try await d.awaitTerminal(Dictionary(uniqueKeysWithValues: second.map { ($0, "") }), timeout: .seconds(90))
        // Every second-wave callback has failed at least once before the receiver comes back.
        try await waitUntil("every second-wave delivery has a failed attempt in the deliveries log", timeout: .seconds(90), interval: .milliseconds(500)) {
            let list = try await d.http.execute(HTTPClientRequest(
                url: d.baseURL + "/v1/webhooks/deliveries?limit=100", headers: [HTTPHeader("Authorization", "Bearer \(Deployment.key(for: "acme"))")]))
            let data = try JSONValue.parse(list.body)["data"]?.arrayValue ?? []
            let failedOnce = Set(data.filter { delivery in
                (delivery["attempts"]?.arrayValue ?? []).contains { $0["outcome"]?.stringValue == "retrying" }
            }.compactMap { $0["subject_id"]?.stringValue })
            return failedOnce.isSuperset(of: secondWave)
        }
        #expect(Set(Self.received(log).compactMap(\.subject)).isDisjoint(with: second), "nobody was listening")

        receiver = try await Self.startReceiver(d, port: port, secret: secret, log: log)
        jobs.formUnion(second)
        let allJobs = jobs
        try await waitUntil("the second wave arrives once the receiver is back", timeout: .seconds(120), interval: .milliseconds(500)) {
            Set(Self.received(log).filter(\.verified).compactMap(\.subject)).isSuperset(of: allJobs)
        }

        let all = Self.received(log)
        #expect(all.allSatisfy { $0.verified }, "every request verifies with the Standard Webhooks library")
        #expect(all.allSatisfy { $0.type == "job.succeeded" })
        // Exactly once by webhook-id: one id per job, and any copy carries the same id.
        var idsBySubject: [String: Set<String>] = [:]
        for entry in all { idsBySubject[entry.subject ?? "", default: []].insert(entry.webhookID) }
        #expect(Set(idsBySubject.keys) == jobs)
        #expect(idsBySubject.values.allSatisfy { $0.count == 1 })

        // Every attempt is an audit event of its job: for each second-wave job at least one
        // failed attempt and the one that delivered it.
        let probe = try LedgerProbe(path: d.databasePath)
        try await waitUntil("the ledger holds the last attempts", timeout: .seconds(30)) {
            try secondWave.allSatisfy { job in
                try probe.int("SELECT COUNT(*) FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id WHERE d.subject_id = ? AND a.outcome = 'delivered'", [job]) == 1
            }
        }
        for job in second {
            let attempts = try probe.int("SELECT COUNT(*) FROM audit_events WHERE type = 'webhook.attempt' AND job_id = ?", [job])
            #expect(attempts >= 2, "job \(job): \(attempts) webhook.attempt events")
        }
    }

    @Test("job.failed and batch.completed arrive signed; a delivery sent again by hand arrives under its webhook-id", .timeLimit(.minutes(4)))
    func failedJobBatchAndManualRetry() async throws {
        let (d, secret, port) = try await Self.servedWithWebhooks("webhook-events", tenants: ["acme"])
        let log = d.dir + "/received.jsonl"
        let hook = "http://127.0.0.1:\(port)/hook"
        let receiver = try await Self.startReceiver(d, port: port, secret: secret, log: log)
        defer { receiver.kill() }

        // The provider refuses the request (400): the job fails at once and says so.
        try await d.setStubFaults(["error_rate": 1, "error_status": 400])
        let response = try await Self.submit(d, webhook: hook, text: "This one the provider refuses.")
        #expect(response.status == 202, "\(response.bodyText)")
        let failedJob = try #require(try JSONValue.parse(response.body)["id"]?.stringValue)
        try await waitUntil("job.failed arrives", timeout: .seconds(60), interval: .milliseconds(300)) {
            Self.received(log).contains { $0.subject == failedJob && $0.type == "job.failed" && $0.verified }
        }
        try await d.setStubFaults(["error_rate": 0])

        // A batch naming the webhook: its end is one batch.completed.
        let client = BatchClient(deployment: d)
        let input = (0..<3).map { i in
            #"{"custom_id":"r\#(i)","method":"POST","url":"/v1/chat/completions","body":{"model":"demo","messages":[{"role":"user","content":"Batch line \#(i). Then stop."}]}}"#
        }.joined(separator: "\n")
        let fileID = try await client.upload(input)
        let batch = try await client.call("POST", "/v1/batches", [
            "input_file_id": .string(fileID), "endpoint": "/v1/chat/completions", "completion_window": "24h",
            "webhook": ["url": .string(hook)],
        ])
        let batchID = try #require(batch["id"]?.stringValue)
        try await waitUntil("batch.completed arrives", timeout: .seconds(90), interval: .milliseconds(500)) {
            Self.received(log).contains { $0.subject == batchID && $0.type == "batch.completed" && $0.verified }
        }
        #expect(try await client.call("GET", "/v1/batches/\(batchID)")["status"]?.stringValue == "completed")

        // The failed job's delivery, sent again by hand: a second request with the same id.
        let list = try await client.call("GET", "/v1/webhooks/deliveries?limit=100")
        let delivery = try #require(list["data"]?.arrayValue?.first { $0["subject_id"]?.stringValue == failedJob })
        let deliveryID = try #require(delivery["id"]?.stringValue)
        let firstID = try #require(Self.received(log).first { $0.subject == failedJob }?.webhookID)
        let retried = try await client.raw("POST", "/v1/webhooks/deliveries/\(deliveryID)/retry")
        #expect(retried.status == 202, "\(retried.bodyText)")
        try await waitUntil("the retried delivery arrives again", timeout: .seconds(60), interval: .milliseconds(300)) {
            Self.received(log).filter { $0.subject == failedJob }.count >= 2
        }
        let copies = Self.received(log).filter { $0.subject == failedJob }
        #expect(copies.allSatisfy { $0.webhookID == firstID && $0.verified && $0.type == "job.failed" })
        #expect(Self.received(log).filter { $0.subject == batchID }.count == 1, "one batch.completed")
        // An unknown delivery is a 404, not a queued retry.
        let unknown = try await client.raw("POST", "/v1/webhooks/deliveries/whd_unknown/retry")
        #expect(unknown.status == 404, "\(unknown.bodyText)")
    }

    @Test("a 410 disables the URL, a redirect is not followed, and deliveries that keep failing end in the webhook DLQ", .timeLimit(.minutes(4)))
    func goneRedirectAndDeadLetters() async throws {
        // Three attempts, a second apart: the schedule runs out within the test.
        let (d, _, port) = try await Self.servedWithWebhooks("webhook-dead", tenants: ["acme"], schedule: ["0s", "1s", "1s"])
        let log = d.dir + "/statuses.jsonl"
        let receiver = try SluiceProcess(
            name: "statuses", executable: try Self.python, arguments: [try Self.scripts + "/webhook-statuses.py", "\(port)", log],
            logPath: d.dir + "/statuses.log")
        defer { receiver.kill() }
        try await waitUntil("the receiver listens", timeout: .seconds(20)) { Harness.isListening(port: port) }

        var submitted: [String: String] = [:]  // path → job id
        for path in ["/gone", "/redirect", "/fail"] {
            let response = try await Self.submit(d, webhook: "http://127.0.0.1:\(port)\(path)", text: "Webhook to \(path), please.")
            #expect(response.status == 202, "\(response.bodyText)")
            submitted[path] = try #require(try JSONValue.parse(response.body)["id"]?.stringValue)
        }
        let jobs = submitted
        let client = BatchClient(deployment: d)
        /// Each job's delivery attempts, as the deliveries list shows them: outcome and status.
        @Sendable func attempts() async throws -> [String: [(outcome: String, status: Int?)]] {
            let list = try await client.call("GET", "/v1/webhooks/deliveries?limit=100")
            var byJob: [String: [(outcome: String, status: Int?)]] = [:]
            for delivery in list["data"]?.arrayValue ?? [] {
                guard let job = delivery["subject_id"]?.stringValue else { continue }
                byJob[job, default: []] += (delivery["attempts"]?.arrayValue ?? []).map {
                    ($0["outcome"]?.stringValue ?? "", $0["status_code"]?.intValue.map { Int($0) })
                }
            }
            return byJob
        }
        try await waitUntil("the 410 disabled its URL and the others gave up", timeout: .seconds(90), interval: .milliseconds(500)) {
            let seen = try await attempts()
            return seen[jobs["/gone"]!]?.contains { $0.outcome == "endpoint_disabled" } == true
                && seen[jobs["/redirect"]!]?.contains { $0.outcome == "dead" } == true
                && seen[jobs["/fail"]!]?.contains { $0.outcome == "dead" } == true
        }
        let seen = try await attempts()
        #expect(seen[jobs["/gone"]!]?.count == 1, "a 410 is not retried: \(seen[jobs["/gone"]!] ?? [])")
        #expect(seen[jobs["/redirect"]!]?.map(\.status) == [302, 302, 302], "a 302 is a failed attempt, each time")
        #expect(seen[jobs["/fail"]!]?.map(\.outcome) == ["retrying", "retrying", "dead"])

        // A later job to the disabled URL is not sent at all.
        let again = try await Self.submit(d, webhook: "http://127.0.0.1:\(port)/gone", text: "Webhook to /gone once more.")
        let againID = try #require(try JSONValue.parse(again.body)["id"]?.stringValue)
        try await waitUntil("the delivery to the disabled URL is refused", timeout: .seconds(60), interval: .milliseconds(500)) {
            try await attempts()[againID]?.contains { $0.outcome == "refused" } == true
        }
        let requests = (try? String(contentsOfFile: log, encoding: .utf8))?.split(separator: "\n").compactMap {
            (try? JSONValue.parse(Array($0.utf8)))?["path"]?.stringValue
        } ?? []
        #expect(requests.filter { $0 == "/gone" }.count == 1, "the disabled URL got a second request: \(requests)")
        #expect(!requests.contains("/ok"), "a redirect was followed: \(requests)")
        #expect(requests.filter { $0 == "/redirect" }.count == 3 && requests.filter { $0 == "/fail" }.count == 3, "\(requests)")

        // Every delivery that will not be sent is in the webhook DLQ, by job id.
        let topics = TopicCatalog(prefix: d.prefix)
        let dead = try await d.recordValues([topics.webhooksDLQ])
        for job in jobs.values + [againID] {
            #expect(dead.contains { $0.contains(job) }, "job \(job)'s delivery is not in the webhook DLQ")
        }
    }

    @Test("a webhook URL at a private or loopback address is refused, naming webhook.url, unless allowlisted", .timeLimit(.minutes(3)))
    func privateAddressesRefused() async throws {
        let secret = WebhookSecret.generate().text
        let d = try Deployment(name: "webhook-ssrf", tenants: ["acme", "strict"], extraYAML: Self.webhooksYAML(secret: secret))
        try await d.applyTopics()
        try await d.startSluice("serve", role: "serve")
        for url in [
            "https://10.0.0.1/hook", "https://169.254.169.254/latest/meta-data", "https://[::1]/hook", "https://localhost/hook",
            "https://127.0.0.1/hook", "http://127.0.0.1:9/hook",
        ] {
            let response = try await Self.submit(d, tenant: "strict", webhook: url, text: "Refuse my callback.")
            #expect(response.status == 400, "\(url): \(response.bodyText)")
            let error = try JSONValue.parse(response.body)["error"]
            #expect(error?["param"]?.stringValue == "webhook.url", "\(url): \(response.bodyText)")
        }
        // The tenant whose allowlist names 127.0.0.0/8 (and http) may use loopback, and only that.
        let allowed = try await Self.submit(d, tenant: "acme", webhook: "http://127.0.0.1:9/hook", text: "Loopback is fine for me.")
        #expect(allowed.status == 202, "\(allowed.bodyText)")
        let stillRefused = try await Self.submit(d, tenant: "acme", webhook: "http://10.0.0.1/hook", text: "Not this one.")
        #expect(stillRefused.status == 400)
    }

    static func openAIChat(_ d: Deployment, tenant: String = "acme") async throws -> JSONValue {
        let out = d.dir + "/openai-\(UUID().uuidString.prefix(6)).out"
        let process = try SluiceProcess(
            name: "openai", executable: try python, arguments: [try scripts + "/openai-chat.py", d.baseURL + "/v1", Deployment.key(for: tenant), "demo"],
            logPath: out)
        let status = await process.exitStatus()
        let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        guard status == 0, let line = text.split(separator: "\n").last(where: { $0.hasPrefix("{") }) else {
            throw HarnessError("openai-chat.py exited \(status): \(text)")
        }
        return try JSONValue.parse(Array(line.utf8))
    }

    @Test("the openai package's chat.completions.create gets a ChatCompletion through the queue", .timeLimit(.minutes(3)))
    func openAIClient() async throws {
        let d = try Deployment(name: "sync-chat")
        try await d.applyTopics()
        try await d.startStub()
        try await d.startSluice("serve", role: "serve")
        let answer = try await Self.openAIChat(d)
        #expect(answer["ok"] == .bool(true), "\(answer)")
        #expect(answer["object"]?.stringValue == "chat.completion")
        #expect(answer["content"]?.stringValue?.isEmpty == false)
    }

    @Test("with no worker the sync call ends in a timeout error; with the broker stopped, an error status, not a hang", .timeLimit(.minutes(4)))
    func queueStopped() async throws {
        let port = Harness.freePort()
        let ownBroker = try OwnBroker(port: port, logs: try Harness.tempDirectory("sync-broker"))
        let broker = try await ownBroker.start()
        defer { broker.kill() }
        let d = try Deployment(name: "sync-stopped", bootstrap: "127.0.0.1:\(port)", ingressSettings: ["sync_timeout_ms: 2000"], produceTimeoutMs: 2_000)
        try await d.applyTopics()
        // Ledger and ingress only: nobody runs the job.
        try await d.startSluice("ledger", role: "ledger")
        try await waitUntil("ledger created its database", timeout: .seconds(30)) { FileManager.default.fileExists(atPath: d.databasePath) }
        try await d.startSluice("ingress", role: "ingress")
        let noWorker = try await Self.openAIChat(d)
        #expect(noWorker["ok"] == .bool(false))
        #expect(noWorker["status"]?.intValue == 504, "\(noWorker)")
        #expect(noWorker["error"]?.stringValue?.contains("sync_timeout") == true, "\(noWorker)")

        broker.kill()
        _ = await broker.exitStatus()
        // The client's own timeout is 10 s without retries: a hang would show as a timeout.
        // Nothing can be queued now: a 503 (never the 504 of a queued job), within the issue's
        // 5 s (produce_timeout_ms is 2 s here).
        let brokerDown = try await Self.openAIChat(d)
        #expect(brokerDown["ok"] == .bool(false))
        #expect(brokerDown["status"]?.intValue == 503, "\(brokerDown)")
        let seconds: Double
        switch brokerDown["seconds"] {
        case .double(let d)?: seconds = d
        case .int(let i)?: seconds = Double(i)
        default: throw HarnessError("no seconds in \(brokerDown)")
        }
        #expect(seconds < 5, "the 503 took \(seconds) s")
    }
}
