import Foundation
import Ledger
import SluiceCore
import Testing

/// How many audit events per second the ledger chains and stores: a measurement, not a test.
///
/// Runs only when `SLUICE_LEDGER_BENCH` is set and asserts nothing about speed (the numbers go
/// to BENCHMARKS.md, "Issue 9: audit chain"). Audit events only (job.accepted, job.started,
/// job.succeeded with the details ingress and workers write), 10 tenants, batches of 1,000 (the
/// writer's batch size under load), synchronous=FULL, 60,000 events into a fresh file. The same
/// file compiles against the ledger before the chain existed, for the "before" number.
///
///     SLUICE_LEDGER_BENCH=1 swift test -c release --filter AuditChainRate
@Suite(
    "AuditChainRate", .serialized,
    .enabled(if: ProcessInfo.processInfo.environment["SLUICE_LEDGER_BENCH"] != nil, "set SLUICE_LEDGER_BENCH=1 to measure"))
struct AuditChainRate {
    static let events = 60_000
    static let batchSize = 1_000

    @Test("audit events/s, batches of 1,000, synchronous=FULL")
    func rate() throws {
        let directory = ProcessInfo.processInfo.environment["SLUICE_LEDGER_BENCH_DIR"] ?? NSTemporaryDirectory()
        let path = URL(fileURLWithPath: directory).appendingPathComponent("audit-bench-\(UUIDv7.generate()).sqlite").path
        defer {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
        let store = try LedgerStore(path: path)
        var records: [LedgerRecord] = []
        records.reserveCapacity(Self.events)
        for job in 0..<Self.events / 3 {
            let id = UUIDv7.generate()
            let tenant = "tenant-\(job % 10)"
            let at = Int64(1_700_000_000_000 + job)
            records.append(.audit(AuditEvent(
                type: .accepted, tenant: tenant, jobID: id, attempt: 1, atMs: at, actor: "ingress:host:1",
                detail: ["model": "gpt-4o-mini", "priority": "p1", "metadata": ["team": "search"]])))
            records.append(.audit(AuditEvent(
                type: .started, tenant: tenant, jobID: id, attempt: 1, atMs: at + 5, actor: "worker:host:2",
                detail: ["route": "openai/gpt-4o-mini"])))
            records.append(.audit(AuditEvent(
                type: .succeeded, tenant: tenant, jobID: id, attempt: 1, atMs: at + 900, actor: "worker:host:2",
                detail: ["route": "openai/gpt-4o-mini", "duration_ms": 895, "total_tokens": 321])))
        }
        let batches = stride(from: 0, to: records.count, by: Self.batchSize).map { Array(records[$0..<min($0 + Self.batchSize, records.count)]) }
        let started = ContinuousClock.now
        for batch in batches {
            try store.apply(batch)
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print(
            "audit-chain-rate batches=\(batches.count)x\(Self.batchSize) events=\(records.count) "
                + "seconds=\(String(format: "%.3f", seconds)) events_per_s=\(Int(Double(records.count) / seconds))")
        #expect(try store.counts().auditEvents == records.count)
    }
}
