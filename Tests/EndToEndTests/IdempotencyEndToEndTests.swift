import Foundation
import SluiceCore
import SluiceHTTP
import Testing
import Workers

/// `Idempotency-Key` across ingress processes: the key lives in the ledger and in the derived
/// job id, not in one process's memory.
@Suite("Idempotency end to end", .serialized)
struct IdempotencyEndToEndTests {
    static let body = #"{"model":"demo","messages":[{"role":"user","content":"Summarise the quarterly report."}]}"#

    static func id(of response: HTTPClientResponse) throws -> String {
        let json = try JSONDecoder().decode(JSONValue.self, from: Data(response.body))
        return try #require(json["id"]?.stringValue, "\(response.status): \(response.bodyText)")
    }

    @Test("the same key and body on a restarted ingress name the same job; the ledger holds one job", .timeLimit(.minutes(3)))
    func restartedIngress() async throws {
        let d = try Deployment(name: "idempotency")
        try await d.applyTopics()
        try await d.startSluice("ledger", role: "ledger")
        try await waitUntil("ledger created its database", timeout: .seconds(30)) {
            FileManager.default.fileExists(atPath: d.databasePath)
        }
        let key = [HTTPHeader("Idempotency-Key", "invoice-2026-12")]

        try await d.startSluice("ingress-1", role: "ingress")
        let first = try await d.submit(body: Self.body, headers: key)
        #expect(first.status == 202, "\(first.bodyText)")
        let jobID = try Self.id(of: first)
        #expect(await d.processes["ingress-1"]?.terminate() == 0)

        // A fresh process: nothing of the first one's memory survives.
        try await d.startSluice("ingress-2", role: "ingress")
        let second = try await d.submit(body: Self.body, headers: key)
        #expect(second.status == 202, "\(second.bodyText)")
        #expect(try Self.id(of: second) == jobID)

        let ledger = try LedgerProbe(path: d.databasePath)
        try await waitUntil("the ledger bound the key", timeout: .seconds(30)) {
            try ledger.int("SELECT COUNT(*) FROM idempotency_keys WHERE job_id = ?", [jobID]) == 1
        }
        // Now answered from the ledger's binding: a replay, and another body is a conflict.
        let third = try await d.submit(body: Self.body, headers: key)
        #expect(third.status == 202)
        #expect(third.header("Idempotent-Replayed") == "true")
        #expect(try Self.id(of: third) == jobID)
        let other = try await d.submit(
            body: #"{"model":"demo","messages":[{"role":"user","content":"Something else."}]}"#, headers: key)
        #expect(other.status == 409)
        #expect(other.bodyText.contains("idempotency_key_conflict"))

        // Give a duplicate produce time to land; there must still be one job and one acceptance.
        try await Task.sleep(for: .seconds(2))
        #expect(try ledger.int("SELECT COUNT(*) FROM jobs") == 1)
        #expect(try ledger.int("SELECT COUNT(*) FROM audit_events WHERE type = 'job.accepted'") == 1)
        #expect(try ledger.int("SELECT COUNT(*) FROM jobs WHERE id = ?", [jobID]) == 1)
        #expect(await d.processes["ingress-2"]?.terminate() == 0)
        #expect(await d.processes["ledger"]?.terminate() == 0)
    }
}
