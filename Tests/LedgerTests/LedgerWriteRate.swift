import Foundation
import Ledger
import SluiceCore
import Testing

/// The ledger's write rate with SQLite's synchronous=NORMAL and FULL: a measurement, not a test.
///
/// Runs only when `SLUICE_LEDGER_BENCH` is set, prints events/s, and asserts nothing about
/// speed (the numbers go to BENCHMARKS.md). Each batch is one `LedgerStore.apply` transaction of
/// job.accepted and result records (two per job): 1,000 records, the shape the writer commits
/// under load, and 20 records, closer to light traffic, where the per-commit fsync weighs most.
/// Every run writes 40,000 records into a fresh file.
///
///     SLUICE_LEDGER_BENCH=1 swift test --filter LedgerWriteRate
///
/// `SLUICE_LEDGER_BENCH_DIR` picks the directory of the database file (default: the temporary
/// directory), since the cost of an fsync depends on the disk.
@Suite(
    "LedgerWriteRate", .serialized,
    .enabled(if: ProcessInfo.processInfo.environment["SLUICE_LEDGER_BENCH"] != nil, "set SLUICE_LEDGER_BENCH=1 to measure"))
struct LedgerWriteRate {
    static let events = 40_000

    @Test("events/s per synchronous level and batch size", arguments: ["normal", "full"], [1_000, 20])
    func writeRate(_ level: String, batchSize: Int) throws {
        let synchronous = try #require(LedgerStore.Synchronous(parsing: level))
        let directory = ProcessInfo.processInfo.environment["SLUICE_LEDGER_BENCH_DIR"] ?? NSTemporaryDirectory()
        let path = URL(fileURLWithPath: directory).appendingPathComponent("ledger-bench-\(UUIDv7.generate()).sqlite").path
        defer {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
        let store = try LedgerStore(path: path, synchronous: synchronous)
        let batchCount = Self.events / batchSize
        let batches = (0..<batchCount).map { _ in
            (0..<batchSize / 2).flatMap { _ -> [LedgerRecord] in
                let id = UUIDv7.generate()
                return [Fixture.accepted(id), Fixture.succeeded(id)]
            }
        }
        let started = ContinuousClock.now
        for batch in batches {
            try store.apply(batch)
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let events = batchCount * batchSize
        print(
            "ledger-write-rate synchronous=\(synchronous) batches=\(batchCount)x\(batchSize) "
                + "events=\(events) seconds=\(String(format: "%.3f", seconds)) "
                + "events_per_s=\(Int(Double(events) / seconds))")
        #expect(try store.counts().jobs == events / 2)
    }
}
