import Foundation
import SluiceCore
import SluiceHTTP
import Testing

/// `POST /v1/chat/completions` waits by being woken when its result passes on the results
/// topic, not by reading the ledger in a loop.
@Suite("End to end: sync completions are woken by their results", .serialized, .timeLimit(.minutes(3)))
struct SyncWaitEndToEndTests {
    @Test("every sync answer is a chat.completion found by a wake-up from the results topic")
    func wokenByResults() async throws {
        let d = try Deployment(name: "sync-wait")
        try await d.applyTopics()
        // Each call takes long enough that every request is asleep when its result comes.
        try await d.startStub(latencyMs: 300)
        try await d.startSluice("serve", role: "serve")
        let count = 20
        let statuses = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
            for i in 0..<count {
                group.addTask {
                    let response = try await d.http.execute(HTTPClientRequest(
                        method: "POST", url: d.baseURL + "/v1/chat/completions",
                        headers: [HTTPHeader("Authorization", "Bearer \(Deployment.key(for: "acme"))"), HTTPHeader("Content-Type", "application/json")],
                        body: Array(#"{"model":"demo","messages":[{"role":"user","content":"sync \#(i)"}]}"#.utf8), timeoutMs: 60_000))
                    return (response.status, try? JSONValue.parse(response.body)["object"]?.stringValue)
                }
            }
            var all: [(Int, String?)] = []
            for try await status in group { all.append(status) }
            return all
        }
        #expect(statuses.count == count)
        #expect(statuses.allSatisfy { $0.0 == 200 && $0.1 == "chat.completion" }, "\(statuses)")
        let metrics = try await d.http.execute(HTTPClientRequest(url: d.baseURL + "/metrics", timeoutMs: 10_000))
        let parsed = try await ObservabilityEndToEndTests.parse(metrics.bodyText)
        // A listener that never woke anyone would leave every answer to the 1 s fallback read;
        // under a loaded suite some results pass the listener later than that fallback.
        #expect(parsed.sum("sluice_sync_results_total", ["found_by": "wakeup"]) >= Double(count / 2))
        #expect(parsed.sum("sluice_sync_results_total") == Double(count))
    }
}
