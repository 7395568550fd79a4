import Ledger
import SluiceCore
import Testing

/// The ingest lease on a batch row: one holder at a time, taken over only once it lapsed.
@Suite("Batch ingest leases")
struct BatchIngestLeaseTests {
    static func batch(createdAtMs: Int64) -> StoredBatch {
        StoredBatch(
            id: StoredBatch.newID(kind: .openai), tenant: "acme", kind: .openai, endpoint: "/v1/chat/completions", inputFileID: "file-1",
            completionWindow: "24h", metadata: nil, createdAtMs: createdAtMs, expiresAtMs: createdAtMs + 86_400_000)
    }

    @Test("a live lease is not taken; a lapsed one is, and its old holder can no longer renew it")
    func claimAndTakeOver() async throws {
        let ledger = try TemporaryLedger()
        let store = ledger.store
        let batch = Self.batch(createdAtMs: 1_000)
        try await store.insertBatch(batch)

        // Never claimed and young: not an orphan yet; old enough: an orphan.
        #expect(try await store.orphanedIngests(nowMs: 2_000, unclaimedBeforeMs: 500).isEmpty)
        #expect(try await store.orphanedIngests(nowMs: 2_000, unclaimedBeforeMs: 1_500).map(\.id) == [batch.id])

        #expect(try await store.claimIngest(batchID: batch.id, owner: "a", nowMs: 2_000, untilMs: 5_000))
        #expect(try await !store.claimIngest(batchID: batch.id, owner: "b", nowMs: 3_000, untilMs: 6_000))
        #expect(try await store.orphanedIngests(nowMs: 4_000, unclaimedBeforeMs: 4_000).isEmpty)
        #expect(try await store.renewIngest(batchID: batch.id, owner: "a", untilMs: 7_000))

        // Lapsed: another holder takes it, and the first one learns it lost it.
        #expect(try await store.orphanedIngests(nowMs: 8_000, unclaimedBeforeMs: 8_000).map(\.id) == [batch.id])
        #expect(try await store.claimIngest(batchID: batch.id, owner: "b", nowMs: 8_000, untilMs: 11_000))
        #expect(try await !store.renewIngest(batchID: batch.id, owner: "a", untilMs: 12_000))

        // Once ingested there is nothing to hold.
        try await store.addRequests(batchID: batch.id, [BatchRequest(ordinal: 3, customID: "c", jobID: "j3")])
        #expect(try await store.recordedJobIDs(batchID: batch.id) == ["j3"])
        try await store.markIngested(batchID: batch.id, total: 3, invalid: 2, jobCount: 1, model: "demo", nowMs: 9_000)
        #expect(try await store.orphanedIngests(nowMs: 99_000, unclaimedBeforeMs: 99_000).isEmpty)
        #expect(try await !store.claimIngest(batchID: batch.id, owner: "c", nowMs: 99_000, untilMs: 100_000))
    }

    @Test("job ids of batch lines are a function of batch and line")
    func derivedJobIDs() {
        #expect(StoredBatch.jobID(batchID: "batch_1", line: 7) == StoredBatch.jobID(batchID: "batch_1", line: 7))
        #expect(StoredBatch.jobID(batchID: "batch_1", line: 7) != StoredBatch.jobID(batchID: "batch_1", line: 8))
        #expect(StoredBatch.jobID(batchID: "batch_1", line: 7) != StoredBatch.jobID(batchID: "batch_2", line: 7))
    }
}
