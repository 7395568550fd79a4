import Foundation
import SluiceCore
import SluiceHTTP
import Testing

/// Batches through `sluice ingress` on its own: the roles as separate processes (ledger,
/// ingress, worker) on one ledger file, the dev broker and the stub provider, with the official
/// SDKs as clients. The ingress stores uploads, batch rows and webhook endpoints; the ledger
/// process finalizes batches.
@Suite("Batches end to end with split roles", .serialized)
struct SplitRolesBatchEndToEndTests {
    @Test("the openai and anthropic packages run their batches against a separate 'sluice ingress', which also stores webhook endpoints", .timeLimit(.minutes(5)))
    func sdksAgainstIngressAlone() async throws {
        let d = try Deployment(name: "batch-split", extraYAML: WebhookEndToEndTests.webhooksYAML(secret: WebhookSecret.generate().text))
        try await d.applyTopics()
        try await d.startStub()
        try await d.startSplitRoles(workers: ["worker"])
        #expect(d.processes["serve"] == nil)

        let openAI = try await BatchEndToEndTests.sdk("openai_batch", [d.baseURL, Deployment.key(for: "acme"), "10"], in: d)
        #expect(openAI["status"] == "completed")
        #expect(openAI["request_counts"] == ["total": 10, "completed": 10, "failed": 0])
        #expect(openAI["output_custom_ids"]?.arrayValue?.compactMap(\.stringValue) == (0..<10).map { "req-\($0)" }.sorted())

        // The Anthropic SDK sends its key as x-api-key.
        let anthropic = try await BatchEndToEndTests.sdk("anthropic_batch", [d.baseURL, Deployment.key(for: "acme"), "6"], in: d)
        #expect(anthropic["status"] == "ended")
        #expect(anthropic["result_types"] == ["succeeded"])
        #expect(anthropic["custom_ids"]?.arrayValue?.compactMap(\.stringValue) == (0..<6).map { "msg-\($0)" }.sorted())
        #expect(try await d.stubCalls().total == 16)

        // Webhook endpoints are stored through the ingress too, and listed back.
        let created = try await d.call(
            "POST", "/v1/webhooks/endpoints", key: Deployment.key(for: "acme"), body: #"{"url":"http://127.0.0.1:9/hook"}"#)
        #expect(created.status == 201, "\(created.bodyText)")
        let listed = try await d.call("GET", "/v1/webhooks/endpoints", key: Deployment.key(for: "acme"))
        #expect((try JSONValue.parse(listed.body))["data"]?.arrayValue?.count == 1, "\(listed.bodyText)")
    }
}
