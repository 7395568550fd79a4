import Foundation
import Ledger
import SluiceCore
import Testing

@Suite("Job requests kept for requeue")
struct JobRequestsTests {
    static func envelope(_ id: String, tenant: String = Fixture.tenant, createdAtMs: Int64 = 1_000, replay: Int = 0) -> (envelope: JobEnvelope, bytes: [UInt8]) {
        var job = JobEnvelope(
            id: id, tenant: tenant, model: Fixture.model, priority: .p1,
            request: ["messages": [["role": "user", "content": .string("hello \(id)")]]], createdAtMs: createdAtMs)
        job.replay = replay
        return (job, Wire.encode(job))
    }

    @Test("an accepted job without a result is listed with its request until the result arrives; filters by tenant and time")
    func unfinishedUntilResult() async throws {
        let ledger = try TemporaryLedger()
        let (a, b, c) = (UUIDv7.generate(), UUIDv7.generate(), UUIDv7.generate())
        try ledger.store.apply([
            Fixture.accepted(a, atMs: 1_000), Fixture.accepted(b, atMs: 2_000), Fixture.accepted(c, tenant: "globex", atMs: 3_000),
        ])
        try await ledger.store.keepRequests([Self.envelope(a), Self.envelope(b, createdAtMs: 2_000)])
        // Redelivered and retry copies change nothing.
        try await ledger.store.keepRequests([Self.envelope(a)])

        var unfinished = try ledger.store.unfinishedJobs()
        #expect(unfinished.map(\.id) == [a, b, c])
        #expect(unfinished[0].envelope?.request == Self.envelope(a).envelope.request)
        #expect(unfinished[2].envelope == nil, "c's record never reached the ledger")
        #expect(try ledger.store.unfinishedJobs(tenant: "globex").map(\.id) == [c])
        #expect(try ledger.store.unfinishedJobs(sinceMs: 2_000).map(\.id) == [b, c])

        try ledger.store.apply([Fixture.succeeded(a)])
        unfinished = try ledger.store.unfinishedJobs()
        #expect(unfinished.map(\.id) == [b, c])
        // The result came first for this one: its record is not kept.
        let d = UUIDv7.generate()
        try ledger.store.apply([Fixture.accepted(d, atMs: 4_000), Fixture.succeeded(d)])
        try await ledger.store.keepRequests([Self.envelope(d, createdAtMs: 4_000)])
        #expect(try ledger.store.unfinishedJobs().map(\.id) == [b, c])
    }

    @Test("a stored request is deleted with its job's result, and a later run's request replaces it")
    func requestsAreForgotten() async throws {
        let ledger = try TemporaryLedger()
        let a = UUIDv7.generate()
        try ledger.store.apply([Fixture.accepted(a)])
        try await ledger.store.keepRequests([Self.envelope(a)])
        try ledger.store.apply([Fixture.succeeded(a)])
        #expect(try ledger.store.unfinishedJobs().isEmpty)
        // Kept again only for a later run (a DLQ replay), which the old result does not finish.
        try await ledger.store.keepRequests([Self.envelope(a, replay: 0)])
        #expect(try ledger.store.storedRequestCount() == 0)
        try await ledger.store.keepRequests([Self.envelope(a, replay: 1)])
        #expect(try ledger.store.storedRequestCount() == 1)
    }
}
