import Foundation
import SluiceCore
import SluiceHTTP
import StubProvider
import Testing

/// One job end to end through each provider dialect: a deployment whose provider has that kind
/// points at the stub, which answers in that dialect at its real path.
@Suite("End to end: provider dialects", .serialized)
struct ProviderDialectEndToEndTests {
    /// A provider kind and the base URL its dialect expects (`STUB` is the stub's address).
    struct Dialect: Sendable, CustomTestStringConvertible {
        var kind: String
        var baseURL: String
        var testDescription: String { kind }
    }

    static let dialects = [
        Dialect(kind: "openai", baseURL: "STUB/v1"),
        Dialect(kind: "azure", baseURL: "STUB"),
        Dialect(kind: "anthropic", baseURL: "STUB/v1"),
        Dialect(kind: "gemini", baseURL: "STUB/v1beta"),
    ]

    static let inputPrice = 2.5
    static let outputPrice = 10.0

    private static func providers(_ dialect: Dialect) -> String {
        """
        providers:
          - name: stub-\(dialect.kind)
            kind: \(dialect.kind)
            base_url: \(dialect.baseURL)
            api_key: test-key
        routes:
          demo: {provider: stub-\(dialect.kind), model: stub-upstream}
        pricing:
          stub-upstream: {input_per_million: \(inputPrice), output_per_million: \(outputPrice)}
          demo: {input_per_million: 999, output_per_million: 999}
        """
    }

    private static func submit(_ d: Deployment, _ text: String) async throws -> String {
        let body = String(decoding: JSONValue.object(["model": "demo", "messages": [["role": "user", "content": .string(text)]]]).serialized(), as: UTF8.self)
        let response = try await d.submit(body: body)
        guard response.status == 202, let id = (try? JSONValue.parse(response.body))?["id"]?.stringValue else {
            throw HarnessError("submit answered \(response.status): \(response.bodyText)")
        }
        return id
    }

    @Test("a job succeeds with the canonical answer, its usage and its cost; a 400 fails the next at once, called once", .timeLimit(.minutes(3)), arguments: dialects)
    func dialectEndToEnd(_ dialect: Dialect) async throws {
        let d = try Deployment(name: "dialect-\(dialect.kind)", providers: Self.providers(dialect))
        try await d.applyTopics()
        try await d.startStub()
        try await d.startSluice("serve", role: "serve")

        // Success: the canonical chat.completion, with usage and cost.
        let prompt = "The \(dialect.kind) dialect carries this job. Nothing after the first sentence."
        let okID = try await Self.submit(d, prompt)
        let ok = try #require(try await d.awaitTerminal([okID: prompt], timeout: .seconds(60))[okID])
        #expect(ok["status"] == "succeeded", "\(ok)")
        let result = try #require(ok["result"])
        #expect(result["object"] == "chat.completion")
        let choice = try #require(result["choices"]?.arrayValue?.first)
        #expect(choice["message"]?["role"] == "assistant")
        #expect(choice["message"]?["content"]?.stringValue == StubCompletion.summary(of: prompt))
        #expect(choice["finish_reason"] == "stop")
        let prompted = try #require(ok["usage"]?["prompt_tokens"]?.intValue)
        let completed = try #require(ok["usage"]?["completion_tokens"]?.intValue)
        #expect(prompted == Int64(StubCompletion.tokenCount(prompt)))
        #expect(completed == Int64(StubCompletion.tokenCount(StubCompletion.summary(of: prompt))))
        #expect(ok["usage"]?["total_tokens"]?.intValue == prompted + completed)
        // The upstream model's price wins over the client-facing name's.
        let expectedCost = (Double(prompted) * Self.inputPrice + Double(completed) * Self.outputPrice) / 1_000_000
        let cost = try #require(ok["cost"].flatMap { value -> Double? in
            if case .double(let d) = value { return d }
            return value.intValue.map(Double.init)
        })
        #expect(abs(cost - expectedCost) < 1e-12)
        #expect(ok["currency"] == "USD")

        let ledger = try LedgerProbe(path: d.databasePath)
        #expect(try ledger.int("SELECT prompt_tokens FROM results WHERE job_id = ?", [okID]) == Int(prompted))
        #expect(try ledger.int("SELECT completion_tokens FROM results WHERE job_id = ?", [okID]) == Int(completed))
        #expect(abs((try ledger.double("SELECT cost FROM results WHERE job_id = ?", [okID]) ?? -1) - expectedCost) < 1e-12)
        #expect(try ledger.string("SELECT currency FROM results WHERE job_id = ?", [okID]) == "USD")

        // A 400 from the provider: failed at once with its message, exactly one call.
        try await d.setStubFaults(["error_rate": 1, "error_status": 400])
        let badID = try await Self.submit(d, "This one is refused. By the provider.")
        let bad = try #require(try await d.awaitTerminal([badID: ""], timeout: .seconds(60))[badID])
        #expect(bad["status"] == "failed", "\(bad)")
        #expect(bad["error"]?["message"]?.stringValue?.contains("The stub provider was told to refuse this request") == true, "\(bad)")
        #expect(bad["error"]?["provider_status"]?.intValue == 400)
        #expect(bad["attempts"]?.intValue == 1)
        #expect(bad["cost"] == nil)
        let calls = try await d.stubCalls()
        #expect(calls.perJob[okID] == 1)
        #expect(calls.perJob[badID] == 1, "a 400 must not be retried")
        #expect(await d.processes["serve"]?.terminate() == 0)
    }
}
