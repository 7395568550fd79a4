import Foundation
import SluiceCore
import SluiceHTTP
import Testing
import Workers

extension Deployment {
    /// `POST /v1/jobs/{id}/cancel`.
    func cancel(_ id: String, tenant: String? = nil) async throws -> (status: Int, json: JSONValue?) {
        let response = try await http.execute(HTTPClientRequest(
            method: "POST", url: baseURL + "/v1/jobs/\(id)/cancel",
            headers: [HTTPHeader("Authorization", "Bearer \(Self.key(for: tenant ?? tenants[0]))")], timeoutMs: 15_000))
        return (response.status, try? JSONValue.parse(response.body))
    }

    /// Submits one `demo` job and returns its id.
    func submitOne(_ text: String, tenant: String? = nil) async throws -> String {
        let body = #"{"model":"demo","messages":[{"role":"user","content":"\#(text)"}]}"#
        let response = try await submit(tenant: tenant, body: body)
        guard response.status == 202, let id = (try? JSONValue.parse(response.body))?["id"]?.stringValue else {
            throw HarnessError("submit answered \(response.status): \(response.bodyText)")
        }
        return id
    }

    /// Polls the job until its status is `status`; returns the job.
    @discardableResult
    func awaitStatus(_ id: String, _ status: JobStatus, tenant: String? = nil, timeout: Duration = .seconds(90)) async throws -> JSONValue {
        try await poll("job \(id) is \(status)", timeout: timeout) {
            let json = try await self.job(id, tenant: tenant).json
            return (json?["status"]?.stringValue == status.rawValue, json)
        }
    }

    /// Polls `probe` until it says done; returns its last value. The error names what was last seen.
    func poll(_ what: String, timeout: Duration, _ probe: () async throws -> (done: Bool, seen: JSONValue?)) async throws -> JSONValue {
        let deadline = ContinuousClock.now + timeout
        var last: JSONValue?
        while ContinuousClock.now < deadline {
            let (done, seen) = try await probe()
            last = seen
            if done { return seen ?? .null }
            try await Task.sleep(for: .milliseconds(300))
        }
        throw HarnessError("timed out after \(timeout) waiting until \(what); last seen: \(last.map { String(decoding: $0.serialized(), as: UTF8.self) } ?? "nothing")")
    }

    /// Polls until the job is `cancelled` with its cancelled result (the status may come from
    /// `job.cancelled` on the audit topic a moment before the result on the results topic).
    @discardableResult
    func awaitCancelled(_ id: String, timeout: Duration = .seconds(90)) async throws -> JSONValue {
        try await poll("job \(id) is cancelled with its result", timeout: timeout) {
            let json = try await self.job(id).json
            return (json?["status"]?.stringValue == "cancelled" && json?["error"]?["code"]?.stringValue == "job_cancelled", json)
        }
    }

    /// Runs a short-lived `sluice` command to its end; returns its exit status and its output.
    func runCommand(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        let logPath = "\(dir)/cmd-\(UUID().uuidString.prefix(6)).log"
        let process = try SluiceProcess(
            name: arguments.prefix(2).joined(separator: "-"), arguments: arguments + ["--config", configPath], logPath: logPath,
            environment: ["SLUICE_KAFKA_BOOTSTRAP_SERVERS": bootstrap])
        let status = await process.exitStatus()
        return (status, (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")
    }
}

/// `POST /v1/jobs/{id}/cancel` with real processes, a real broker and the stub provider.
@Suite("End to end: cancellation", .serialized, .timeLimit(.minutes(5)))
struct CancellationEndToEndTests {
    @Test("a job cancelled while no worker runs is never sent to the provider; finished and foreign jobs cannot be cancelled")
    func cancelQueuedJob() async throws {
        let deployment = try Deployment(name: "cancel-queued", tenants: ["acme", "globex"])
        try await deployment.applyTopics()
        try await deployment.startStub()
        try await deployment.startSplitRoles(workers: [])

        // No worker yet: the job stays queued.
        let id = try await deployment.submitOne("please never run")
        let cancelled = try await deployment.cancel(id)
        #expect(cancelled.status == 202)
        #expect(cancelled.json?["status"]?.stringValue == "queued")
        #expect(cancelled.json?["id"]?.stringValue == id)
        // Another tenant cannot tell the job exists.
        #expect(try await deployment.cancel(id, tenant: "globex").status == 404)

        // A worker that starts now reads the control topic before it runs anything.
        try await deployment.startSluice("worker", role: "worker")
        try await deployment.awaitCancelled(id)

        // A job after it runs normally, which shows the worker was working all along.
        let later = try await deployment.submitOne("run me")
        try await deployment.awaitStatus(later, .succeeded)
        #expect(try await deployment.stubCalls().perJob[id, default: 0] == 0)

        // Cancelling a finished job is 409 and leaves it as it was.
        let again = try await deployment.cancel(later)
        #expect(again.status == 409)
        #expect(again.json?["error"]?["code"]?.stringValue == "job_finished")
        #expect(try await deployment.job(later).json?["status"]?.stringValue == "succeeded")
        #expect(try await deployment.cancel(id).status == 409)  // cancelled is finished too
    }

    @Test("a job waiting in a retry topic is cancelled there: no further provider call")
    func cancelWaitingJob() async throws {
        // Every call answers 429 with Retry-After: 30 s, so the job's retry waits 30 s in a retry
        // topic (nothing waits locally): a fixed wait, unlike a jittered backoff.
        let deployment = try Deployment(
            name: "cancel-waiting", workerSettings: ["local_retry_max_ms: 0", "max_attempts: 10"])
        try await deployment.applyTopics()
        try await deployment.startStub(arguments: [])
        try await deployment.setStubFaults(["rate_limit_rate": .double(1.0), "retry_after_seconds": 30])
        try await deployment.startSluice("serve", role: "serve")

        let id = try await deployment.submitOne("wait for me")
        try await deployment.awaitStatus(id, .retrying)
        let callsBefore = try await deployment.stubCalls().perJob[id, default: 0]
        #expect(callsBefore == 1)

        let answer = try await deployment.cancel(id)
        #expect(answer.status == 202)
        #expect(answer.json?["status"]?.stringValue == "retrying")
        try await deployment.awaitCancelled(id)

        // Recover the provider; a new job succeeds and the cancelled one was not called again.
        try await deployment.setStubFaults(["rate_limit_rate": 0])
        let later = try await deployment.submitOne("after")
        try await deployment.awaitStatus(later, .succeeded)
        #expect(try await deployment.stubCalls().perJob[id, default: 0] == callsBefore)
    }
}

extension CancellationEndToEndTests {
    @Test("a cancel during a provider call lets the call finish: a success stands, a failure is not retried")
    func cancelInFlight() async throws {
        let deployment = try Deployment(name: "cancel-inflight", workerSettings: ["max_attempts: 20", "retry_base_delay_ms: 50"])
        try await deployment.applyTopics()
        try await deployment.startStub(latencyMs: 3_000)
        try await deployment.startSluice("serve", role: "serve")

        // Succeeds: the call runs for 3 s; the cancel comes while it runs.
        let lucky = try await deployment.submitOne("almost done")
        _ = try await deployment.poll("the stub has the first job", timeout: .seconds(60)) {
            (try await deployment.stubCalls().perJob[lucky, default: 0] >= 1, nil)
        }
        #expect(try await deployment.cancel(lucky).status == 202)
        try await deployment.awaitStatus(lucky, .succeeded)
        #expect(try await deployment.stubCalls().perJob[lucky] == 1)

        // Fails with 503 on every call: the call in flight ends it, cancelled, with no retry
        // after it (at most the call that was running when the cancel arrived).
        try await deployment.setStubFaults(["error_rate": .double(1.0), "error_status": 503])
        let unlucky = try await deployment.submitOne("failing")
        _ = try await deployment.poll("the stub has the second job", timeout: .seconds(60)) {
            (try await deployment.stubCalls().perJob[unlucky, default: 0] >= 1, nil)
        }
        let callsAtCancel = try await deployment.stubCalls().perJob[unlucky, default: 0]
        #expect(try await deployment.cancel(unlucky).status == 202)
        try await deployment.awaitCancelled(unlucky)
        let calls = try await deployment.stubCalls().perJob[unlucky, default: 0]
        #expect(calls >= callsAtCancel && calls <= callsAtCancel + 1)
        #expect(calls < 20)
    }
}

/// `sluice dlq list` and `sluice dlq replay` against jobs that really died.
@Suite("End to end: dead letters", .serialized, .timeLimit(.minutes(5)))
struct DeadLetterEndToEndTests {
    /// The `--json` lines of `sluice dlq list`.
    static func listed(_ deployment: Deployment) async throws -> [JSONValue] {
        let (status, output) = try await deployment.runCommand(["dlq", "list", "--json"])
        guard status == 0 else { throw HarnessError("dlq list exited \(status): \(output)") }
        return output.split(separator: "\n").filter { $0.hasPrefix("{") }.compactMap { try? JSONValue.parse(Array($0.utf8)) }
    }

    @Test("a job that used up its attempts is in the DLQ with its errors; replay runs it once")
    func deadLetterAndReplay() async throws {
        let deployment = try Deployment(name: "dlq", workerSettings: ["max_attempts: 2", "retry_base_delay_ms: 50"])
        try await deployment.applyTopics()
        try await deployment.startStub()
        try await deployment.setStubFaults(["error_rate": .double(1.0), "error_status": 503])
        try await deployment.startSluice("serve", role: "serve")

        let id = try await deployment.submitOne("doomed for now")
        let failed = try await deployment.awaitStatus(id, .failed)
        #expect(failed["error"]?["provider_status"]?.intValue == 503)
        #expect(try await deployment.stubCalls().perJob[id] == 2)

        // Listed with the error of each attempt, and listing twice changes nothing.
        let entry = try await deployment.poll("the DLQ lists the job", timeout: .seconds(60)) {
            let found = try await Self.listed(deployment).first { $0["job_id"]?.stringValue == id }
            return (found != nil, found)
        }
        let failures = entry["failures"]?.arrayValue ?? []
        #expect(failures.count == 2)
        #expect(failures.compactMap { $0["error"]?["provider_status"]?.intValue } == [503, 503])
        #expect(failures.compactMap { $0["attempt"]?.intValue } == [1, 2])
        #expect(entry["replayed"] == .bool(false))
        #expect(try await Self.listed(deployment).filter { $0["job_id"]?.stringValue == id }.count == 1)
        let otherTenant = try await deployment.runCommand(["dlq", "list", "--json", "--tenant", "globex"])
        #expect(otherTenant.status == 0)
        #expect(!otherTenant.output.contains(id))

        // The provider recovers; one replay makes the job succeed, under the same id.
        try await deployment.setStubFaults(["error_rate": 0])
        let first = try await deployment.runCommand(["dlq", "replay", "--job", id])
        #expect(first.status == 0, "\(first.output)")
        #expect(first.output.contains("1 replayed"))
        let done = try await deployment.awaitStatus(id, .succeeded)
        #expect(done["result"] != nil)
        #expect(try await deployment.stubCalls().perJob[id] == 3)

        // A second replay finds it replayed and does nothing.
        let second = try await deployment.runCommand(["dlq", "replay", "--job", id])
        #expect(second.status == 0, "\(second.output)")
        #expect(second.output.contains("0 replayed, 1 skipped"))
        #expect(try await Self.listed(deployment).first { $0["job_id"]?.stringValue == id }?["replayed"] == .bool(true))
        // A job submitted after it finishes, on the same tenant's partition: any copy of the
        // replayed job would have run before it.
        let later = try await deployment.submitOne("barrier")
        try await deployment.awaitStatus(later, .succeeded)
        #expect(try await deployment.stubCalls().perJob[id] == 3)
        #expect(try await deployment.job(id).json?["status"]?.stringValue == "succeeded")
    }
}
