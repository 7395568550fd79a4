import Foundation
import SluiceCore
import SluiceHTTP
import Testing

/// Batches end to end: a real `sluice serve`, the dev broker, the stub provider, and the
/// official `openai` and `anthropic` Python packages (from `.venv`, see scripts/setup) as the
/// clients.
@Suite("Batches end to end", .serialized)
struct BatchEndToEndTests {
    /// Runs one of the SDK scripts under Tests/sdk and returns the JSON summary it prints.
    static func sdk(_ script: String, _ arguments: [String], in deployment: Deployment) async throws -> JSONValue {
        let root = try Harness.repoRoot
        let log = "\(deployment.dir)/\(script)-\(UUID().uuidString.prefix(4)).log"
        let process = try SluiceProcess(
            name: script, executable: root + "/.venv/bin/python", arguments: ["\(root)/Tests/sdk/\(script).py"] + arguments,
            logPath: log)
        let status = await process.exitStatus()
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        guard status == 0, let last = text.split(separator: "\n").last(where: { $0.hasPrefix("{") }) else {
            throw HarnessError("\(script) exited \(status): \(process.logTail())")
        }
        return try JSONValue.parse(Array(last.utf8))
    }

    static func started(_ name: String, latencyMs: Int = 0, workerConcurrency: Int = 64) async throws -> Deployment {
        let deployment = try Deployment(name: name, workerConcurrency: workerConcurrency)
        try await deployment.applyTopics()
        try await deployment.startStub(latencyMs: latencyMs)
        try await deployment.startSluice("serve", role: "serve")
        return deployment
    }

    @Test("the openai package uploads, batches, polls to completed and downloads matching output", .timeLimit(.minutes(5)))
    func openAISDK() async throws {
        let deployment = try await Self.started("batch-openai")
        let summary = try await Self.sdk("openai_batch", [deployment.baseURL, Deployment.key(for: "acme"), "40"], in: deployment)
        #expect(summary["status"] == "completed")
        #expect(summary["file_status"] == "processed")
        #expect(summary["listed"] == true)
        #expect(summary["metadata"] == ["suite": "sdk"])
        #expect(summary["request_counts"] == ["total": 40, "completed": 40, "failed": 0])
        let expected = (0..<40).map { "req-\($0)" }.sorted()
        #expect(summary["output_custom_ids"]?.arrayValue?.compactMap(\.stringValue) == expected)
        #expect(summary["output_status_codes"] == [200])
        // The stub echoes each prompt, so every line carries its own request's answer.
        #expect(summary["output_contents"]?.arrayValue?.compactMap(\.stringValue) == (0..<40).map { "question \($0)" }.sorted())
        #expect((summary["usage_total"]?.intValue ?? 0) > 0)
        #expect(summary["error_lines"] == [])
        let calls = try await deployment.stubCalls()
        #expect(calls.total == 40)
    }

    @Test("malformed lines go to the error file, named by line, and the rest completes", .timeLimit(.minutes(5)))
    func malformedLines() async throws {
        let deployment = try await Self.started("batch-malformed")
        let summary = try await Self.sdk("openai_batch", [deployment.baseURL, Deployment.key(for: "acme"), "5", "4"], in: deployment)
        #expect(summary["status"] == "completed")
        #expect(summary["request_counts"] == ["total": 9, "completed": 5, "failed": 4])
        #expect(summary["output_custom_ids"]?.arrayValue?.count == 5)
        let errors = summary["error_lines"]?.arrayValue ?? []
        #expect(errors.compactMap { $0["error"]?["line"]?.intValue }.sorted() == [6, 7, 8, 9])
        #expect(Set(errors.compactMap { $0["error"]?["code"]?.stringValue }) == ["invalid_json_line", "url_mismatch"])
        #expect(errors.allSatisfy { $0["response"] == .null && ($0["error"]?["message"]?.stringValue?.hasPrefix("Line ") ?? false) })
        // Bad lines are never sent to a provider.
        #expect(try await deployment.stubCalls().total == 5)
    }

    @Test("the anthropic package creates, retrieves and reads results of a message batch", .timeLimit(.minutes(5)))
    func anthropicSDK() async throws {
        let deployment = try await Self.started("batch-anthropic")
        let summary = try await Self.sdk("anthropic_batch", [deployment.baseURL, Deployment.key(for: "acme"), "12"], in: deployment)
        #expect(summary["created_status"] == "in_progress")
        #expect(summary["status"] == "ended")
        #expect(summary["listed"] == true)
        #expect(summary["deleted_type"] == "message_batch_deleted")
        #expect(summary["request_counts"] == ["processing": 0, "succeeded": 12, "errored": 0, "canceled": 0, "expired": 0])
        #expect(summary["result_types"] == ["succeeded"])
        #expect(summary["custom_ids"]?.arrayValue?.compactMap(\.stringValue) == (0..<12).map { "msg-\($0)" }.sorted())
        #expect(summary["texts"]?.arrayValue?.compactMap(\.stringValue) == (0..<12).map { "hello \($0)" }.sorted())
    }

    @Test("cancelling a running batch ends it cancelled, keeps finished lines and starts no new calls", .timeLimit(.minutes(5)))
    func cancelInProgress() async throws {
        // Four calls at a time of 300 ms each: 200 lines take 15 s, so the batch is running
        // when it is cancelled.
        let deployment = try await Self.started("batch-cancel", latencyMs: 300, workerConcurrency: 4)
        let client = BatchClient(deployment: deployment)
        var lines = ""
        for i in 0..<200 {
            lines += #"{"custom_id":"c-\#(i)","method":"POST","url":"/v1/chat/completions","body":{"model":"demo","messages":[{"role":"user","content":"q \#(i)"}]}}"# + "\n"
        }
        let file = try await client.upload(lines)
        let created = try await client.call("POST", "/v1/batches", [
            "input_file_id": .string(file), "endpoint": "/v1/chat/completions", "completion_window": "24h",
        ])
        let id = try #require(created["id"]?.stringValue)
        try await waitUntil("the batch has finished a few lines", timeout: .seconds(60)) {
            (try await client.call("GET", "/v1/batches/\(id)"))["request_counts"]?["completed"]?.intValue ?? 0 >= 4
        }
        let cancelling = try await client.call("POST", "/v1/batches/\(id)/cancel")
        #expect(cancelling["status"] == "cancelling")
        #expect(cancelling["cancelling_at"]?.intValue != nil)

        try await waitUntil("the batch is cancelled", timeout: .seconds(120)) {
            try await client.call("GET", "/v1/batches/\(id)")["status"] == "cancelled"
        }
        let batch = try await client.call("GET", "/v1/batches/\(id)")
        let completed = try #require(batch["request_counts"]?["completed"]?.intValue)
        #expect(completed >= 4 && completed < 200)
        #expect(batch["request_counts"]?["total"] == 200)
        #expect(batch["cancelled_at"]?.intValue != nil)

        let output = try await client.lines(of: try #require(batch["output_file_id"]?.stringValue))
        #expect(Int64(output.count) == completed)
        #expect(output.allSatisfy { $0["response"]?["status_code"] == 200 })
        let errors = try await client.lines(of: try #require(batch["error_file_id"]?.stringValue))
        #expect(Int64(errors.count) == 200 - completed)
        #expect(errors.allSatisfy { $0["error"]?["code"] == "batch_cancelled" })
        #expect(Set((output + errors).compactMap { $0["custom_id"]?.stringValue }).count == 200)

        // Every call the stub saw is a finished line, and none start after the cancel.
        let callsAtEnd = try await deployment.stubCalls().total
        #expect(Int64(callsAtEnd) == completed)
        try await Task.sleep(for: .seconds(3))
        #expect(try await deployment.stubCalls().total == callsAtEnd)

        let again = try await client.raw("POST", "/v1/batches/\(id)/cancel")
        #expect(again.status == 409)
    }
}

/// The batch API over plain HTTP (for the tests that need to act mid-batch).
struct BatchClient {
    let deployment: Deployment

    var auth: HTTPHeader { HTTPHeader("Authorization", "Bearer \(Deployment.key(for: deployment.tenants[0]))") }

    func raw(_ method: String, _ path: String, _ body: JSONValue? = nil) async throws -> HTTPClientResponse {
        var headers = [auth]
        if body != nil { headers.append(HTTPHeader("Content-Type", "application/json")) }
        return try await deployment.http.execute(HTTPClientRequest(
            method: method, url: deployment.baseURL + path, headers: headers, body: body?.serialized() ?? [], timeoutMs: 15_000))
    }

    func call(_ method: String, _ path: String, _ body: JSONValue? = nil) async throws -> JSONValue {
        let response = try await raw(method, path, body)
        guard response.status == 200 else { throw HarnessError("\(method) \(path) answered \(response.status): \(response.bodyText)") }
        return try JSONValue.parse(response.body)
    }

    /// Uploads `text` as a batch input file; returns its id.
    func upload(_ text: String) async throws -> String {
        let boundary = "sluice-test-\(UUID().uuidString)"
        var body = "--\(boundary)\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n"
        body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"input.jsonl\"\r\n"
        body += "Content-Type: application/jsonl\r\n\r\n\(text)\r\n--\(boundary)--\r\n"
        let response = try await deployment.http.execute(HTTPClientRequest(
            method: "POST", url: deployment.baseURL + "/v1/files",
            headers: [auth, HTTPHeader("Content-Type", "multipart/form-data; boundary=\(boundary)")], body: Array(body.utf8),
            timeoutMs: 30_000))
        guard response.status == 200, let id = (try JSONValue.parse(response.body))["id"]?.stringValue else {
            throw HarnessError("upload answered \(response.status): \(response.bodyText)")
        }
        return id
    }

    /// The JSON lines of a file's content.
    func lines(of fileID: String) async throws -> [JSONValue] {
        let response = try await raw("GET", "/v1/files/\(fileID)/content")
        guard response.status == 200 else { throw HarnessError("content answered \(response.status)") }
        return try response.body.split(separator: 10).map { try JSONValue.parse(Array($0)) }
    }
}
