import SluiceCore
import Testing

@Suite("Record headers")
struct RecordHeaderTests {
    static func job(replay: Int) -> JobEnvelope {
        var job = JobEnvelope(id: "j-1", tenant: "acme", model: "m", priority: .p1, request: ["messages": []], createdAtMs: 1)
        job.replay = replay
        return job
    }

    @Test("job records say their run in sluice-replay (the ledger skips finished runs by it); other records do not")
    func replayOnJobRecordsOnly() {
        let pairs = RecordHeader.pairs(schema: JobEnvelope.schema, job: Self.job(replay: 3))
        #expect(pairs.map(\.0) == [RecordHeader.schema, RecordHeader.tenant, RecordHeader.jobID, RecordHeader.replay])
        #expect(pairs.last?.1 == "3")
        #expect(RecordHeader.pairs(schema: JobEnvelope.schema, job: Self.job(replay: 0)).last?.1 == "0")
        for schema in [AuditEvent.schema, ResultEnvelope.schema] {
            #expect(!RecordHeader.pairs(schema: schema, job: Self.job(replay: 3)).contains { $0.0 == RecordHeader.replay }, "\(schema)")
        }
    }
}
