import Kafka
import Logging
import SluiceCore

/// Builds a ledger afresh from the Kafka topics it is filled from (`sluice ledger rebuild`):
/// disaster recovery when the ledger file is lost, and the proof that the ledger holds nothing
/// the topics do not.
///
/// Reads the audit and results topics from their first offsets, outside any consumer group
/// (``KafkaTopicReader``: nobody's committed offsets move), and applies them in batches exactly
/// as ``LedgerWriter`` does. Each tenant's events sit in one partition of the audit topic and
/// are applied in that partition's order, so the rebuilt chain heads equal those of any ledger
/// fed by the same topics.
///
/// What the topics no longer hold (records past their retention) cannot come back; the stored
/// job requests of unfinished jobs (`sluice jobs requeue`) are not rebuilt, as the job topics
/// are not read.
public enum LedgerRebuild {
    /// What a rebuild read and wrote.
    public struct Summary: Sendable {
        public var records = 0
        /// Records that did not decode or that the store refused, kept in `ledger_rejects`.
        public var setAside = 0
    }

    /// Reads everything the topics held when it started into `store`.
    ///
    /// - Parameters:
    ///   - reader: A reader of `topics.audit` and `topics.results`, not started.
    ///   - batchSize: Records per transaction.
    ///   - progress: Called after each batch with the records written so far.
    public static func run(
        reader: KafkaTopicReader, into store: LedgerStore, topics: TopicCatalog, batchSize: Int, logger: Logger,
        progress: (Int) -> Void = { _ in }
    ) async throws -> Summary {
        try await reader.start()
        var summary = Summary()
        var entries: [LedgerEntry] = []
        var malformed: [LedgerReject] = []
        let limit = max(1, batchSize)
        func flush() async throws {
            guard !entries.isEmpty || !malformed.isEmpty else { return }
            let rejected = try await store.applyOffPool(entries, rejecting: malformed)
            summary.records += entries.count + malformed.count
            summary.setAside += rejected.count + malformed.count
            entries.removeAll(keepingCapacity: true)
            malformed.removeAll(keepingCapacity: true)
            progress(summary.records)
        }
        while true {
            while entries.count + malformed.count < limit, let message = try reader.poll() {
                do {
                    entries.append(
                        LedgerEntry(
                            record: try LedgerWriter.record(of: message, topics: topics), topic: message.topic,
                            partition: message.partition, offset: message.offset, value: message.value))
                } catch {
                    logger.warning(
                        "malformed record set aside while rebuilding",
                        metadata: ["topic": "\(message.topic)", "partition": "\(message.partition)", "offset": "\(message.offset)"])
                    malformed.append(
                        LedgerReject(
                            topic: message.topic, partition: message.partition, offset: message.offset, value: message.value,
                            error: "malformed: \(error)", atMs: store.clock.nowMs()))
                }
            }
            if entries.count + malformed.count >= limit {
                try await flush()
                continue
            }
            if reader.isCaughtUp { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        try await flush()
        await reader.close()
        return summary
    }
}
