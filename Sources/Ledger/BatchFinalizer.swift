import Foundation
import GRDB
import Kafka
import Logging
import ServiceLifecycle
import SluiceCore

/// Keeps running batches current and ends them: the ledger role runs it because the ledger
/// is where every job's result lands.
///
/// Every `finalize_interval_ms` it counts, for each batch that is in progress or cancelling,
/// the results its jobs have in the ledger (a join of `batch_requests` with `results`) and
/// stores the counts and token usage on the batch. A batch ends when every job of its fully
/// ingested input has a result (`completed`, or `cancelled` after a cancel), when its window
/// passes (`expired`), or when a cancel waited `cancel_grace_seconds` for the results of its
/// cancelled jobs (`cancelled`). Ending writes the output file (successful lines) and the
/// error file (invalid lines, failed jobs, and lines left unfinished), both in OpenAI's batch
/// output format, then publishes a `batch.v1` record on the results topic for the webhook
/// workers.
public final class BatchFinalizer: Service, Sendable {
    private let store: LedgerStore
    private let producer: KafkaProducer?
    private let topics: TopicCatalog
    private let configuration: BatchesConfiguration
    private let directory: String
    private let logger: Logger

    /// - Parameters:
    ///   - producer: Publishes the terminal `batch.v1` records; nil publishes none.
    ///   - directory: The files directory (`batches.files_directory`, resolved).
    public init(
        store: LedgerStore, producer: KafkaProducer?, topics: TopicCatalog, configuration: BatchesConfiguration,
        directory: String, logger: Logger
    ) {
        self.store = store
        self.producer = producer
        self.topics = topics
        self.configuration = configuration
        self.directory = directory
        self.logger = logger
    }

    public func run() async throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let interval = Duration.milliseconds(max(10, configuration.finalizeIntervalMs))
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.tick()
                do { try await Task.sleep(for: interval) } catch { break }
            }
        }
    }

    /// One look at every running batch. Failures are logged and retried at the next tick.
    func tick() async {
        let active: [StoredBatch]
        do {
            active = try await store.pool.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM batches WHERE status IN ('in_progress', 'cancelling', 'finalizing')")
                    .map(LedgerStore.storedBatch)
            }
        } catch {
            logger.warning("cannot read running batches", metadata: ["error": "\(error)"])
            return
        }
        for batch in active {
            do {
                try await advance(batch)
            } catch {
                logger.warning("batch not advanced; trying again", metadata: ["batch_id": "\(batch.id)", "error": "\(error)"])
            }
        }
    }

    /// Outcome counts of a batch's jobs, from the ledger's results.
    struct Progress {
        var succeeded = 0
        var failed = 0
        var cancelled = 0
        var inputTokens: Int64 = 0
        var outputTokens: Int64 = 0
        var finished: Int { succeeded + failed + cancelled }
    }

    private func progress(of batchID: String) async throws -> Progress {
        try await store.pool.read { db in
            var progress = Progress()
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT r.status AS status, count(*) AS n, coalesce(sum(r.prompt_tokens), 0) AS input,
                      coalesce(sum(r.completion_tokens), 0) AS output
                    FROM batch_requests br JOIN results r ON r.job_id = br.job_id
                    WHERE br.batch_id = ? GROUP BY r.status
                    """,
                arguments: [batchID])
            for row in rows {
                let n: Int = row["n"]
                switch JobStatus(rawValue: row["status"]) {
                case .succeeded: progress.succeeded += n
                case .cancelled: progress.cancelled += n
                default: progress.failed += n
                }
                // Each sum is of counts within Usage.tokenRange over at most max_lines rows.
                let input: Int64 = row["input"]
                let output: Int64 = row["output"]
                progress.inputTokens = progress.inputTokens.addingReportingOverflow(input).partialValue
                progress.outputTokens = progress.outputTokens.addingReportingOverflow(output).partialValue
            }
            return progress
        }
    }

    private func advance(_ batch: StoredBatch) async throws {
        let progress = try await progress(of: batch.id)
        let nowMs = store.clock.nowMs()
        try await store.pool.write { db in
            try db.execute(
                sql: """
                    UPDATE batches SET completed = ?, failed = invalid + ?, input_tokens = ?, output_tokens = ?
                    WHERE id = ? AND status IN ('in_progress', 'cancelling', 'finalizing')
                    """,
                arguments: [progress.succeeded, progress.failed, progress.inputTokens, progress.outputTokens, batch.id])
        }
        let allDone = batch.ingested && progress.finished >= batch.jobCount
        let graceMs = Int64(configuration.cancelGraceSeconds) * 1_000
        let ending: StoredBatch.Status
        switch batch.status {
        case .finalizing:
            ending = .completed
        case .inProgress where allDone:
            ending = .completed
        case .inProgress where nowMs >= batch.expiresAtMs:
            ending = .expired
        case .cancelling where allDone:
            ending = .cancelled
        case .cancelling where batch.ingested && nowMs >= (batch.cancellingAtMs ?? nowMs).addingReportingOverflow(graceMs).partialValue:
            ending = .cancelled
        default:
            return
        }
        if ending == .completed, batch.status != .finalizing {
            try await store.pool.write { db in
                try db.execute(
                    sql: "UPDATE batches SET status = 'finalizing', finalizing_at_ms = ? WHERE id = ? AND status = 'in_progress'",
                    arguments: [nowMs, batch.id])
            }
        }
        try await finish(batch, as: ending, nowMs: nowMs)
    }

    // MARK: - Ending

    private func finish(_ batch: StoredBatch, as ending: StoredBatch.Status, nowMs: Int64) async throws {
        let unfinishedCode = ending == .expired ? "batch_expired" : "batch_cancelled"
        let writer = try BatchOutputWriter(directory: directory, batchID: batch.id)
        let counts = try await store.pool.read { [cipher = store.cipher] db in
            try writer.write(batch: batch, unfinishedCode: unfinishedCode, cipher: cipher, in: db)
        }
        let outputFile = counts.outputLines > 0 ? writer.keepOutput(tenant: batch.tenant, nowMs: nowMs) : nil
        let errorFile = counts.errorLines > 0 ? writer.keepErrors(tenant: batch.tenant, nowMs: nowMs) : nil
        writer.removeLeftovers()
        let stamp: String
        switch ending {
        case .expired: stamp = "expired_at_ms"
        case .cancelled: stamp = "cancelled_at_ms"
        default: stamp = "completed_at_ms"
        }
        let changed = try await store.pool.write { db -> Bool in
            for file in [outputFile, errorFile].compactMap({ $0 }) {
                try db.execute(
                    sql: "INSERT INTO files (id, tenant, filename, purpose, bytes, created_at_ms) VALUES (?, ?, ?, ?, ?, ?)",
                    arguments: [file.id, file.tenant, file.filename, file.purpose, file.bytes, file.createdAtMs])
            }
            try db.execute(
                sql: """
                    UPDATE batches SET status = ?, \(stamp) = ?, output_file_id = ?, error_file_id = ?, cancelled_count = ?,
                      expired_count = ?
                    WHERE id = ? AND status IN ('in_progress', 'cancelling', 'finalizing')
                    """,
                arguments: [
                    ending.rawValue, nowMs, outputFile?.id, errorFile?.id, ending == .cancelled ? counts.unfinished : 0,
                    ending == .expired ? counts.unfinished : 0, batch.id,
                ])
            return db.changesCount > 0
        }
        guard changed else { return }
        logger.info(
            "batch ended",
            metadata: [
                "batch_id": "\(batch.id)", "status": "\(ending.rawValue)", "output_lines": "\(counts.outputLines)",
                "error_lines": "\(counts.errorLines)",
            ])
        await publish(BatchEvent(batchID: batch.id, tenant: batch.tenant, status: ending.rawValue, webhookURL: batch.webhookURL))
    }

    /// Publishes the terminal event, trying a few times; a batch whose event could not be
    /// published is logged (its status is already stored and can be polled).
    private func publish(_ event: BatchEvent) async {
        guard let producer else { return }
        let message = KafkaProducerMessage(
            topic: topics.results, key: Array(event.batchID.utf8), value: Wire.encode(event),
            headers: [KafkaHeader(key: RecordHeader.schema, value: BatchEvent.schema), KafkaHeader(key: RecordHeader.tenant, value: event.tenant)])
        for attempt in 1...5 {
            do {
                _ = try await producer.send(message)
                return
            } catch {
                logger.warning(
                    "batch event not published", metadata: ["batch_id": "\(event.batchID)", "attempt": "\(attempt)", "error": "\(error)"])
                try? await Task.sleep(for: .seconds(attempt))
            }
        }
        logger.error("batch event given up; webhooks for this batch will not be sent", metadata: ["batch_id": "\(event.batchID)"])
    }
}
