import Foundation
import GRDB
import Ledger
import SluiceCore
import Testing

/// Poison records: one record the store cannot write must not hold up, or take down, its batch.
@Suite("Ledger rejects", .timeLimit(.minutes(1)))
struct LedgerRejectsTests {
    @Test("a record SQLite refuses is set aside with its position and bytes; the rest of the batch is stored")
    func poisonRecordIsSetAside() throws {
        let ledger = try TemporaryLedger()
        try Poison.install(at: ledger.path)
        let good = UUIDv7.generate(), other = UUIDv7.generate(), poisoned = UUIDv7.generate()
        let entries = [
            Poison.entry(Fixture.accepted(good), offset: 10),
            Poison.entry(Poison.record(jobID: poisoned), offset: 11),
            Poison.entry(Fixture.accepted(other), offset: 12),
            Poison.entry(Fixture.succeeded(other), topic: "t.results", offset: 4),
        ]
        let malformed = LedgerReject(
            topic: "t.audit", partition: 0, offset: 13, value: Array("not json".utf8), error: "malformed: not JSON",
            atMs: 5)

        let rejected = try ledger.store.apply(entries, rejecting: [malformed])

        #expect(rejected.map(\.offset) == [11])
        let counts = try ledger.store.counts()
        #expect(counts.jobs == 2)
        #expect(counts.results == 1)
        #expect(counts.auditEvents == 2)
        #expect(try ledger.store.statusCounts(tenant: Fixture.tenant) == [.queued: 1, .succeeded: 1])
        let rows = try ledger.store.rejects()
        #expect(rows.count == 2)
        let poison = try #require(rows.first { $0.offset == 11 })
        #expect(poison.topic == "t.audit")
        #expect(poison.partition == 0)
        #expect(poison.value == entries[1].value)
        #expect(poison.valueBytes == entries[1].value.count)
        #expect(poison.error.contains("poisoned record"), "\(poison.error)")
        #expect(rows.contains { $0.offset == 13 && $0.value == Array("not json".utf8) && $0.error.contains("not JSON") })

        // Redelivered: nothing doubles, the rejects included.
        _ = try ledger.store.apply(entries, rejecting: [malformed])
        #expect(try ledger.store.counts().auditEvents == 2)
        #expect(try ledger.store.rejects().count == 2)
    }

    @Test("a batch without faults stores no reject; a long value is kept capped with its full length")
    func capAndCleanBatch() throws {
        let ledger = try TemporaryLedger()
        let id = UUIDv7.generate()
        #expect(try ledger.store.apply([Poison.entry(Fixture.accepted(id), offset: 1)]).isEmpty)
        #expect(try ledger.store.rejects().isEmpty)

        let huge = [UInt8](repeating: UInt8(ascii: "x"), count: LedgerReject.maxStoredValueBytes + 10)
        try ledger.store.apply([], rejecting: [
            LedgerReject(topic: "t.audit", partition: 2, offset: 7, value: huge, error: "malformed", atMs: 1)
        ])
        let row = try #require(try ledger.store.rejects().first)
        #expect(row.value.count == LedgerReject.maxStoredValueBytes)
        #expect(row.valueBytes == huge.count)
        #expect(row.partition == 2)
    }
}

/// A way to make SQLite refuse one record for its own content: a trigger, installed by the test
/// only, that aborts the insert of any audit event written by actor `poison` (SQLITE_CONSTRAINT,
/// as a violated constraint would). The ledger's schema has no such trap of its own.
enum Poison {
    static func install(at path: String) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(
                sql: """
                    CREATE TRIGGER poison BEFORE INSERT ON audit_events WHEN NEW.actor = 'poison'
                    BEGIN SELECT RAISE(ABORT, 'poisoned record'); END
                    """)
        }
        try queue.close()
    }

    static func record(jobID: String) -> LedgerRecord {
        .audit(AuditEvent(type: .started, tenant: Fixture.tenant, jobID: jobID, attempt: 1, atMs: 1_500, actor: "poison"))
    }

    static func entry(_ record: LedgerRecord, topic: String = "t.audit", offset: Int64) -> LedgerEntry {
        let value: [UInt8] =
            switch record {
            case .audit(let event): Wire.encode(event)
            case .result(let result): Wire.encode(result)
            }
        return LedgerEntry(record: record, topic: topic, partition: 0, offset: offset, value: value)
    }
}
