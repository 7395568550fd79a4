import Foundation
import Logging
import SluiceCore
import Testing

@testable import Ledger

/// How the ledger ends batches (issue 8: "expired batches end as `expired` with the finished
/// lines kept"), driven through the finalizer's own tick against a real SQLite file.
@Suite("Batch finalizer")
struct BatchFinalizerTests {
    static let logger = Logger(label: "batch-finalizer-test")

    static func files() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("batch-files-\(UUIDv7.generate())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func lines(_ path: String) throws -> [JSONValue] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { try JSONValue.parse(Array($0.utf8)) }
    }

    /// A batch of three lines whose first line finished; its window ends at `expiresAtMs`.
    static func batch(_ ledger: borrowing TemporaryLedger, expiresAtMs: Int64) async throws -> (id: String, jobs: [String]) {
        let id = "batch_\(UUIDv7.generate().suffix(12))"
        let jobs = (0..<3).map { _ in UUIDv7.generate() }
        try await ledger.store.insertBatch(StoredBatch(
            id: id, tenant: Fixture.tenant, kind: .openai, endpoint: "/v1/chat/completions", inputFileID: "file-in",
            completionWindow: "24h", metadata: nil, createdAtMs: 1_000, expiresAtMs: expiresAtMs))
        try await ledger.store.addRequests(
            batchID: id, jobs.enumerated().map { BatchRequest(ordinal: $0.offset, customID: "line-\($0.offset)", jobID: $0.element) })
        try await ledger.store.markIngested(batchID: id, total: 3, invalid: 0, jobCount: 3, model: Fixture.model, nowMs: 2_000)
        try ledger.store.apply(
            jobs.map { Fixture.accepted($0, batchID: id) } + [Fixture.event(.started, jobs[0], atMs: 2_500), Fixture.succeeded(jobs[0])])
        return (id, jobs)
    }

    @Test("a batch past its window ends expired: the finished line in the output file, the others in the error file as batch_expired")
    func expiredKeepsFinishedLines() async throws {
        let nowMs: Int64 = 90_000_000
        let ledger = try TemporaryLedger(clock: WallClock { nowMs })
        let directory = try Self.files()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let finalizer = BatchFinalizer(
            store: ledger.store, producer: nil, topics: TopicCatalog(prefix: "sluice"), configuration: BatchesConfiguration(),
            directory: directory, logger: Self.logger)

        // Within its window a batch with unfinished lines stays in progress.
        let running = try await Self.batch(ledger, expiresAtMs: nowMs + 60_000)
        // Past its window it ends.
        let late = try await Self.batch(ledger, expiresAtMs: nowMs - 1)
        await finalizer.tick()

        let stillRunning = try #require(try await ledger.store.batch(id: running.id, tenant: Fixture.tenant))
        #expect(stillRunning.status == .inProgress)
        #expect(stillRunning.completed == 1)

        let expired = try #require(try await ledger.store.batch(id: late.id, tenant: Fixture.tenant))
        #expect(expired.status == .expired)
        #expect(expired.expiredAtMs == nowMs)
        #expect(expired.completed == 1)
        #expect(expired.expiredCount == 2)
        let output = try Self.lines(directory + "/" + (try #require(expired.outputFileID)))
        #expect(output.map { $0["custom_id"]?.stringValue } == ["line-0"])
        #expect(output.first?["response"]?["status_code"]?.intValue == 200)
        let errors = try Self.lines(directory + "/" + (try #require(expired.errorFileID)))
        #expect(Set(errors.compactMap { $0["custom_id"]?.stringValue }) == ["line-1", "line-2"])
        #expect(errors.allSatisfy { $0["error"]?["code"]?.stringValue == "batch_expired" && $0["response"] == .null })

        // A later tick changes nothing about an ended batch.
        await finalizer.tick()
        #expect(try await ledger.store.batch(id: late.id, tenant: Fixture.tenant) == expired)
    }
}
