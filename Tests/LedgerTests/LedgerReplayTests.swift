import Foundation
import Ledger
import SluiceCore
import Testing

/// Cancelled results and DLQ replays in the ledger: a replayed run reopens a failed job and
/// its outcome replaces the earlier one, whatever order the records arrive in.
@Suite("Ledger: cancellation and DLQ replay", .timeLimit(.minutes(1)))
struct LedgerReplayTests {
    static func result(_ id: String, _ status: JobStatus, replay: Int, attempt: Int = 1, atMs: Int64) -> LedgerRecord {
        var result = ResultEnvelope(
            jobID: id, tenant: Fixture.tenant, attempt: attempt, status: status, model: Fixture.model,
            response: status == .succeeded ? Fixture.response : nil,
            error: status == .succeeded ? nil : JobError(type: "provider_error", message: "\(status) in run \(replay)"),
            startedAtMs: atMs - 10, finishedAtMs: atMs)
        result.replay = replay
        return .result(result)
    }

    static func event(_ type: AuditEventType, _ id: String, replay: Int, attempt: Int = 1, atMs: Int64) -> LedgerRecord {
        .audit(AuditEvent(type: type, tenant: Fixture.tenant, jobID: id, attempt: attempt, atMs: atMs, actor: "test", replay: replay))
    }

    @Test("a cancelled result ends the job cancelled and a later success does not change it")
    func cancelledIsFinal() async throws {
        let ledger = try TemporaryLedger()
        let id = UUIDv7.generate()
        try ledger.store.apply([Fixture.accepted(id), Self.event(.cancelRequested, id, replay: 0, atMs: 1_500)])
        #expect(try await ledger.store.job(id: id, tenant: Fixture.tenant)?.status == .queued)
        try ledger.store.apply([Self.result(id, .cancelled, replay: 0, atMs: 2_000), Self.event(.cancelled, id, replay: 0, atMs: 2_000)])
        try ledger.store.apply([Fixture.succeeded(id)])
        let job = try #require(try await ledger.store.job(id: id, tenant: Fixture.tenant))
        #expect(job.status == .cancelled)
        #expect(job.error?.message == "cancelled in run 0")
    }

    @Test("a replay reopens a failed job; the new run's success replaces the failure")
    func replayReopens() async throws {
        let ledger = try TemporaryLedger()
        let id = UUIDv7.generate()
        try ledger.store.apply([
            Fixture.accepted(id), Self.event(.started, id, replay: 0, attempt: 2, atMs: 1_500),
            Self.result(id, .failed, replay: 0, attempt: 2, atMs: 2_000),
        ])
        #expect(try await ledger.store.job(id: id, tenant: Fixture.tenant)?.status == .failed)

        try ledger.store.apply([Self.event(.replayed, id, replay: 1, atMs: 3_000)])
        let reopened = try #require(try await ledger.store.job(id: id, tenant: Fixture.tenant))
        #expect(reopened.status == .queued)
        #expect(reopened.completedAtMs == nil)
        #expect(reopened.error == nil)  // the earlier run's outcome is not shown while the new one runs

        try ledger.store.apply([Self.event(.started, id, replay: 1, atMs: 3_100), Self.result(id, .succeeded, replay: 1, atMs: 3_500)])
        let done = try #require(try await ledger.store.job(id: id, tenant: Fixture.tenant))
        #expect(done.status == .succeeded)
        #expect(done.result == Fixture.response)
        #expect(done.completedAtMs == 3_500)
        #expect(try ledger.store.counts().jobs == 1)
        #expect(try ledger.store.counts().results == 1)
    }

    @Test("late records of an earlier run change nothing, in any order")
    func lateRecordsOfEarlierRun() async throws {
        let id = UUIDv7.generate()
        let records = [
            Fixture.accepted(id), Self.result(id, .failed, replay: 0, attempt: 3, atMs: 2_000),
            Self.event(.replayed, id, replay: 1, atMs: 3_000), Self.event(.retrying, id, replay: 0, attempt: 3, atMs: 1_900),
            Self.result(id, .succeeded, replay: 1, atMs: 3_500), Self.event(.started, id, replay: 0, attempt: 3, atMs: 1_800),
        ]
        for order in [records, records.reversed(), [records[4], records[0], records[3], records[1], records[5], records[2]]] {
            let ledger = try TemporaryLedger()
            for record in order { try ledger.store.apply([record]) }
            let job = try #require(try await ledger.store.job(id: id, tenant: Fixture.tenant))
            #expect(job.status == .succeeded)
            #expect(job.result == Fixture.response)
        }
    }

    @Test("a replayed result for another tenant's job id changes nothing")
    func otherTenant() async throws {
        let ledger = try TemporaryLedger()
        let id = UUIDv7.generate()
        try ledger.store.apply([Fixture.accepted(id), Self.result(id, .failed, replay: 0, atMs: 2_000)])
        var foreign = ResultEnvelope(
            jobID: id, tenant: "globex", attempt: 1, status: .succeeded, model: Fixture.model, response: Fixture.response,
            startedAtMs: 2_100, finishedAtMs: 2_200)
        foreign.replay = 1
        try ledger.store.apply([.result(foreign)])
        #expect(try await ledger.store.job(id: id, tenant: Fixture.tenant)?.status == .failed)
    }
}
