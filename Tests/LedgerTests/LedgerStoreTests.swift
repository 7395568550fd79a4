import Foundation
import Ledger
import SluiceCore
import Testing

@Suite("LedgerStore", .timeLimit(.minutes(1)))
struct LedgerStoreTests {
    // MARK: - Lifecycle of one job

    @Test("accepted, started, result: succeeded with response and usage")
    func happyPath() async throws {
        let ledger = try TemporaryLedger()
        let id = UUIDv7.generate()
        try ledger.store.apply([Fixture.accepted(id, batchID: "batch_1")])
        #expect(try await ledger.store.job(id: id, tenant: Fixture.tenant)?.status == .queued)

        try ledger.store.apply([Fixture.event(.started, id, atMs: 1_900)])
        #expect(try await ledger.store.job(id: id, tenant: Fixture.tenant)?.status == .running)

        try ledger.store.apply([Fixture.succeeded(id), Fixture.event(.succeeded, id, atMs: 3_000)])
        let job = try #require(try await ledger.store.job(id: id, tenant: Fixture.tenant))
        #expect(job.status == .succeeded)
        #expect(job.model == Fixture.model)
        #expect(job.priority == .p0)
        #expect(job.attempts == 1)
        #expect(job.createdAtMs == 1_000)
        #expect(job.startedAtMs == 1_900)
        #expect(job.completedAtMs == 3_000)
        #expect(job.batchID == "batch_1")
        #expect(job.metadata == ["team": "search"])
        #expect(job.result == Fixture.response)
        #expect(job.error == nil)
        #expect(job.usage == Usage(promptTokens: 12, completionTokens: 5, totalTokens: 17))

        let counts = try ledger.store.counts()
        #expect(counts.jobs == 1)
        #expect(counts.results == 1)
        #expect(counts.auditEvents == 3)
    }

    @Test("a job whose final event arrives before its result shows running until the result is in")
    func finalEventBeforeResult() async throws {
        let ledger = try TemporaryLedger()
        let id = UUIDv7.generate()
        try ledger.store.apply([Fixture.accepted(id), Fixture.event(.started, id, atMs: 1_900), Fixture.event(.succeeded, id, atMs: 3_000)])
        let pending = try #require(try await ledger.store.job(id: id, tenant: Fixture.tenant))
        #expect(pending.status == .running)
        #expect(pending.completedAtMs == nil)
        #expect(try ledger.store.statusCounts(tenant: Fixture.tenant) == [.running: 1], "counts agree with the job view")
        try ledger.store.apply([Fixture.succeeded(id)])
        let done = try #require(try await ledger.store.job(id: id, tenant: Fixture.tenant))
        #expect(done.status == .succeeded)
        #expect(done.result == Fixture.response)
    }

    @Test("a failed result carries its error")
    func failedResult() async throws {
        let ledger = try TemporaryLedger()
        let id = UUIDv7.generate()
        let error = JobError(
            type: "invalid_request_error", code: "context_length_exceeded", message: "too long", providerStatus: 400)
        try ledger.store.apply([
            Fixture.accepted(id), Fixture.event(.started, id, atMs: 2_000), Fixture.failed(id, error: error),
            Fixture.event(.failed, id, atMs: 2_500),
        ])
        let job = try #require(try await ledger.store.job(id: id, tenant: Fixture.tenant))
        #expect(job.status == .failed)
        #expect(job.error == error)
        #expect(job.result == nil)
        #expect(job.usage == nil)
        #expect(job.completedAtMs == 2_500)
        #expect(try ledger.store.statusCounts(tenant: Fixture.tenant) == [.failed: 1])
    }

    // MARK: - Exactly once

    @Test("the same batch applied twice changes nothing")
    func redeliveredBatch() async throws {
        let ledger = try TemporaryLedger()
        let ids = (0..<20).map { _ in UUIDv7.generate() }
        let batch = ids.flatMap { id in
            [Fixture.accepted(id), Fixture.event(.started, id, atMs: 1_500), Fixture.succeeded(id)]
        }
        try ledger.store.apply(batch)
        let first = try ledger.store.counts()
        let firstView = try await ledger.store.job(id: ids[3], tenant: Fixture.tenant)

        try ledger.store.apply(batch)
        try ledger.store.apply(Array(batch.reversed()))
        let second = try ledger.store.counts()
        #expect(first.jobs == 20 && first.results == 20 && first.auditEvents == 40)
        #expect(second.jobs == first.jobs)
        #expect(second.results == first.results)
        #expect(second.auditEvents == first.auditEvents)
        #expect(try await ledger.store.job(id: ids[3], tenant: Fixture.tenant) == firstView)
        #expect(try ledger.store.statusCounts(tenant: nil) == [.succeeded: 20])
    }

    @Test("a second, different result for a job is ignored: the first terminal result wins")
    func firstResultWins() async throws {
        let ledger = try TemporaryLedger()
        let id = UUIDv7.generate()
        try ledger.store.apply([Fixture.accepted(id), Fixture.succeeded(id)])
        try ledger.store.apply([Fixture.failed(id, error: JobError(type: "timeout", message: "late copy"))])
        let job = try #require(try await ledger.store.job(id: id, tenant: Fixture.tenant))
        #expect(job.status == .succeeded)
        #expect(job.error == nil)
        #expect(job.result == Fixture.response)
        #expect(try ledger.store.counts().results == 1)
    }

    // MARK: - Arrival order

    @Test("a result before job.accepted: succeeded, and accepted fills in the rest")
    func resultBeforeAccepted() async throws {
        let ledger = try TemporaryLedger()
        let id = UUIDv7.generate()
        try ledger.store.apply([Fixture.succeeded(id)])
        let early = try #require(try await ledger.store.job(id: id, tenant: Fixture.tenant))
        #expect(early.status == .succeeded)
        #expect(early.model == Fixture.model)

        try ledger.store.apply([Fixture.accepted(id, atMs: 900, priority: "bulk")])
        try ledger.store.apply([Fixture.event(.started, id, atMs: 1_800)])
        let job = try #require(try await ledger.store.job(id: id, tenant: Fixture.tenant))
        #expect(job.status == .succeeded)
        #expect(job.priority == .p2)
        #expect(job.createdAtMs == 900)
        #expect(job.startedAtMs == 1_800)
        #expect(job.completedAtMs == 3_000)
        #expect(job.metadata == ["team": "search"])
        #expect(job.result == Fixture.response)
        #expect(try ledger.store.counts().jobs == 1)
    }

    @Test("terminal status is never overwritten by a late non-terminal event")
    func terminalIsFinal() async throws {
        let ledger = try TemporaryLedger()
        let id = UUIDv7.generate()
        try ledger.store.apply([Fixture.event(.cancelled, id, atMs: 5_000)])
        try ledger.store.apply([
            Fixture.event(.started, id, attempt: 3, atMs: 4_000), Fixture.event(.retrying, id, attempt: 3, atMs: 4_500),
            Fixture.accepted(id),
        ])
        let job = try #require(try await ledger.store.job(id: id, tenant: Fixture.tenant))
        #expect(job.status == .cancelled)
        #expect(job.completedAtMs == 5_000)
        #expect(job.attempts == 3)
        #expect(job.model == Fixture.model)
    }

    @Test("higher attempts win; within an attempt, work beats queued whatever the arrival order")
    func attemptsOrderStatus() async throws {
        let ledger = try TemporaryLedger()
        let id = UUIDv7.generate()
        // Retry of attempt 1, then attempt 2 starts; delivered newest first.
        try ledger.store.apply([Fixture.event(.started, id, attempt: 2, atMs: 7_000)])
        try ledger.store.apply([
            Fixture.event(.retrying, id, attempt: 1, atMs: 2_000), Fixture.event(.started, id, attempt: 1, atMs: 1_500),
            Fixture.accepted(id),
        ])
        var job = try #require(try await ledger.store.job(id: id, tenant: Fixture.tenant))
        #expect(job.status == .running)
        #expect(job.attempts == 2)
        #expect(job.startedAtMs == 1_500)

        // Attempt 2 fails retriably: retrying is later than running within attempt 2.
        try ledger.store.apply([Fixture.event(.retrying, id, attempt: 2, atMs: 8_000)])
        job = try #require(try await ledger.store.job(id: id, tenant: Fixture.tenant))
        #expect(job.status == .retrying)
        #expect(try ledger.store.counts().jobs == 1)
    }

    // MARK: - Tenancy

    @Test("another tenant's job and an unknown id both read as nil")
    func tenantIsolation() async throws {
        let ledger = try TemporaryLedger()
        let id = UUIDv7.generate()
        try ledger.store.apply([Fixture.accepted(id), Fixture.succeeded(id)])
        #expect(try await ledger.store.job(id: id, tenant: "globex") == nil)
        #expect(try await ledger.store.job(id: UUIDv7.generate(), tenant: Fixture.tenant) == nil)
        #expect(try await ledger.store.job(id: id, tenant: Fixture.tenant) != nil)
    }

    @Test("records naming another tenant's job do not change it")
    func crossTenantRecordsIgnored() async throws {
        let ledger = try TemporaryLedger()
        let id = UUIDv7.generate()
        try ledger.store.apply([Fixture.accepted(id)])
        try ledger.store.apply([
            Fixture.event(.cancelled, id, tenant: "globex", atMs: 2_000), Fixture.succeeded(id, tenant: "globex"),
        ])
        let job = try #require(try await ledger.store.job(id: id, tenant: Fixture.tenant))
        #expect(job.status == .queued)
        #expect(try await ledger.store.job(id: id, tenant: "globex") == nil)
        #expect(try ledger.store.statusCounts(tenant: "globex").isEmpty)
    }

    // MARK: - Volume

    @Test("1,000 jobs in batches: 1,000 rows and 1,000 results")
    func thousandJobs() async throws {
        let ledger = try TemporaryLedger()
        let ids = (0..<1_000).map { _ in UUIDv7.generate() }
        // Results travel apart from audit events: apply them in separate, interleaved batches.
        for chunk in stride(from: 0, to: ids.count, by: 250) {
            let slice = ids[chunk..<min(chunk + 250, ids.count)]
            try ledger.store.apply(slice.map { Fixture.succeeded($0) })
            try ledger.store.apply(
                slice.flatMap { [Fixture.accepted($0), Fixture.event(.started, $0, atMs: 1_500)] })
        }
        let counts = try ledger.store.counts()
        #expect(counts.jobs == 1_000)
        #expect(counts.results == 1_000)
        #expect(counts.auditEvents == 2_000)
        #expect(try ledger.store.statusCounts(tenant: Fixture.tenant) == [.succeeded: 1_000])
        let sample = try #require(try await ledger.store.job(id: ids[777], tenant: Fixture.tenant))
        #expect(sample.status == .succeeded && sample.usage?.totalTokens == 17)
    }

    // MARK: - Opening

    @Test("a read-only store sees what the writer committed")
    func readOnlyStore() async throws {
        let ledger = try TemporaryLedger()
        let id = UUIDv7.generate()
        try ledger.store.apply([Fixture.accepted(id)])
        let reader = try LedgerStore(readOnlyPath: ledger.path)
        #expect(try await reader.job(id: id, tenant: Fixture.tenant)?.status == .queued)
        try ledger.store.apply([Fixture.succeeded(id)])
        #expect(try await reader.job(id: id, tenant: Fixture.tenant)?.status == .succeeded)
        #expect(throws: (any Error).self) { try reader.apply([Fixture.accepted(UUIDv7.generate())]) }
    }

    @Test("a read-only open of a missing file fails instead of creating it")
    func readOnlyMissingFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("missing-\(UUIDv7.generate()).sqlite").path
        #expect(throws: LedgerError.self) { try LedgerStore(readOnlyPath: path) }
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
