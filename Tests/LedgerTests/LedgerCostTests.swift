import Ledger
import SluiceCore
import Testing

@Suite("Ledger: usage and cost per result")
struct LedgerCostTests {
    @Test("a result's tokens, cost and currency are stored and shown on the job; a result without a price shows none")
    func costIsKept() async throws {
        let ledger = try TemporaryLedger()
        let priced = UUIDv7.generate()
        let unpriced = UUIDv7.generate()
        let result = ResultEnvelope(
            jobID: priced, tenant: Fixture.tenant, attempt: 1, status: .succeeded, model: Fixture.model, route: "openai/gpt-4o-mini",
            response: Fixture.response, usage: Usage(promptTokens: 1_000, completionTokens: 200), cost: 0.00027, currency: "EUR",
            startedAtMs: 2_000, finishedAtMs: 3_000)
        try ledger.store.apply([Fixture.accepted(priced), .result(result), Fixture.accepted(unpriced), Fixture.succeeded(unpriced)])

        let job = try #require(try await ledger.store.job(id: priced, tenant: Fixture.tenant))
        #expect(job.usage == Usage(promptTokens: 1_000, completionTokens: 200, totalTokens: 1_200))
        #expect(job.cost == 0.00027)
        #expect(job.currency == "EUR")
        #expect(job.json["cost"] == .double(0.00027))
        #expect(job.json["currency"] == "EUR")

        let plain = try #require(try await ledger.store.job(id: unpriced, tenant: Fixture.tenant))
        #expect(plain.usage != nil)
        #expect(plain.cost == nil && plain.currency == nil)
        #expect(plain.json["cost"] == nil)
    }
}
