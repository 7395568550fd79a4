import Foundation
import SluiceCore
import SluiceHTTP
import Testing

/// A `sluice serve` SIGKILLed while it queues a batch's lines: after the restart the batch is
/// resumed, completes, and no line that had been queued before the kill runs again.
@Suite("Batch resume end to end", .serialized)
struct BatchResumeEndToEndTests {
    @Test("a batch whose ingest was killed is resumed after restart; every custom_id once, no queued line queued again", .timeLimit(.minutes(8)))
    func resumeAfterKill() async throws {
        let lineCount = 4_000
        // 4,000 lines in chunks of 500, one chunk awaiting the broker at a time: slow enough to be
        // caught in the middle (an isolated run queues about 5,000 lines a second), small enough
        // not to crowd the dev broker that the whole suite shares (20,000 lines did). A 3 s
        // lease lets the restarted process take the batch soon.
        let d = try Deployment(
            name: "batch-resume", workerConcurrency: 32,
            extraYAML: "batches:\n  ingest_window: 500\n  ingest_lease_seconds: 3\n")
        try await d.applyTopics()
        // Slow answers before the kill: few lines run, so a line that runs twice afterwards can
        // only be one the kill interrupted (at-least-once), not one queued twice.
        try await d.startStub(latencyMs: 2_000)
        try await d.startSluice("serve", role: "serve")
        let client = BatchClient(deployment: d)

        var lines = ""
        lines.reserveCapacity(lineCount * 140)
        for i in 0..<lineCount {
            lines += #"{"custom_id":"r-\#(i)","method":"POST","url":"/v1/chat/completions","body":{"model":"demo","messages":[{"role":"user","content":"q \#(i)"}]}}"# + "\n"
        }
        let file = try await client.upload(lines)
        let created = try await client.call("POST", "/v1/batches", [
            "input_file_id": .string(file), "endpoint": "/v1/chat/completions", "completion_window": "24h",
        ])
        let id = try #require(created["id"]?.stringValue)

        let probe = try LedgerProbe(path: d.databasePath)
        try await waitUntil("the batch has some but not all lines recorded", timeout: .seconds(120), interval: .milliseconds(20)) {
            let recorded = try probe.int("SELECT count(*) FROM batch_requests WHERE batch_id = ?", [id])
            let status = try probe.string("SELECT status FROM batches WHERE id = ?", [id])
            guard status == "validating" else { throw HarnessError("the ingest finished (\(status ?? "nil")) before it could be killed") }
            return recorded >= 1_500 && recorded < lineCount
        }
        d.processes["serve"]?.kill()
        _ = await d.processes["serve"]?.exitStatus()
        let recordedAtKill = try probe.int("SELECT count(*) FROM batch_requests WHERE batch_id = ?", [id])
        #expect(try probe.string("SELECT status FROM batches WHERE id = ?", [id]) == "validating")
        let before = try await d.stubCalls()

        try await d.setStubFaults(["latency_ms": 0])
        try await d.startSluice("serve", role: "serve")
        try await waitUntil("the resumed batch completes", timeout: .seconds(360), interval: .seconds(1)) {
            let status = try await client.call("GET", "/v1/batches/\(id)")["status"]?.stringValue
            if status == "failed" || status == "expired" || status == "cancelled" { throw HarnessError("the batch ended \(status ?? "")") }
            return status == "completed"
        }
        let batch = try await client.call("GET", "/v1/batches/\(id)")
        #expect(batch["request_counts"]?["total"] == .int(Int64(lineCount)))
        let completed = try #require(batch["request_counts"]?["completed"]?.intValue)

        // Every custom_id exactly once. (A suite that crowds the shared dev broker can make a
        // worker record a job failed when its result cannot be published: such a line is in the
        // error file instead, still once; in a quiet run every line completes.)
        let output = try await client.lines(of: try #require(batch["output_file_id"]?.stringValue))
        var errorLines: [JSONValue] = []
        if let errorFile = batch["error_file_id"]?.stringValue { errorLines = try await client.lines(of: errorFile) }
        let customIDs = (output + errorLines).compactMap { $0["custom_id"]?.stringValue }
        #expect(customIDs.count == lineCount)
        #expect(Set(customIDs) == Set((0..<lineCount).map { "r-\($0)" }))
        #expect(Int64(output.count) == completed)
        #expect(completed >= Int64(lineCount) * 99 / 100)
        #expect(output.allSatisfy { $0["response"]?["status_code"] == 200 })

        // A line queued before the kill is not queued again: queueing the recorded lines again
        // would run at least 1,000 jobs twice. Calls beyond one per line come only from the
        // workers' at-least-once: calls under way at the kill, and jobs a consumer-group
        // rebalance after the restart hands out again (the dead member leaves the group only
        // after its session timeout), fewer than 500 here.
        let after = try await d.stubCalls()
        #expect(after.total - lineCount - before.total < 500, "calls: \(after.total) for \(lineCount) lines, \(before.total) before the kill")
        #expect(after.perJob.count == lineCount)
        // The resume path ran (not a restart after the ingest had finished anyway).
        let log = (try? String(contentsOfFile: "\(d.dir)/serve.log", encoding: .utf8)) ?? ""
        #expect(log.contains("resuming batch ingest"))
        #expect(recordedAtKill >= 1_500 && recordedAtKill < lineCount)
    }
}
