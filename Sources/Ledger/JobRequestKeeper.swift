import Kafka
import Logging
import ServiceLifecycle
import SluiceCore

/// Keeps, in the ledger, the job record of every accepted job until its result arrives, read
/// from the job topics (`sluice.jobs.p0|p1|p2`) that ingress already writes.
///
/// This is what `sluice jobs requeue --unfinished` re-enqueues when a broker lost its topics (the
/// in-memory dev broker keeps nothing across a restart). It reads the job topics in a consumer
/// group of its own, so that its lag never holds up the audit log or job status, and stores
/// batches the same way as ``LedgerWriter``: a batch's messages are marked done only after its
/// transaction committed. An undecodable job record is skipped (and logged): the workers move it
/// to the DLQ, which keeps it.
///
/// - Important: Add the consumer to the same `ServiceGroup`, registered before this keeper (see
///   ``LedgerWriter``).
public final class JobRequestKeeper: Service, Sendable {
    private let store: LedgerStore
    private let consumer: KafkaConsumer
    private let batchSize: Int
    private let logger: Logger

    public init(store: LedgerStore, consumer: KafkaConsumer, configuration: LedgerConfiguration, logger: Logger) {
        self.store = store
        self.consumer = consumer
        self.batchSize = max(1, configuration.batchSize)
        self.logger = logger
    }

    public func run() async throws {
        let batcher = MessageBatcher<KafkaMessage>()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                await cancelWhenGracefulShutdown {
                    for await message in self.consumer.messages {
                        batcher.append(message)
                    }
                }
                batcher.finish()
            }
            group.addTask {
                while let batch = await batcher.nextBatch(maxCount: self.batchSize, linger: LedgerWriter.linger) {
                    try await self.write(batch)
                }
                try Task.checkCancellation()
            }
            for try await _ in group {}
        }
    }

    private func write(_ batch: [KafkaMessage]) async throws {
        // Jobs whose run already has a result need nothing kept: with a quick provider most
        // do by the time this (less hurried) reader gets to them. The headers say which job
        // and run a record is, so those records are neither decoded nor sealed nor written.
        var identified: [(id: String, replay: Int)] = []
        var messageOf: [Int] = []  // identified index → batch index
        for (index, message) in batch.enumerated() {
            if let id = message.header(RecordHeader.jobID), let text = message.header(RecordHeader.replay),
                let replay = Int(text), Wire.replayRange.contains(replay)
            {
                identified.append((id, replay))
                messageOf.append(index)
            }
        }
        let skipped = Set(await finishedJobs(identified).map { messageOf[$0] })
        var jobs: [(envelope: JobEnvelope, bytes: [UInt8])] = []
        for (index, message) in batch.enumerated() where !skipped.contains(index) {
            do {
                jobs.append((try Wire.decode(JobEnvelope.self, from: message.value), message.value))
            } catch {
                logger.warning(
                    "undecodable job record; not kept for requeue",
                    metadata: ["topic": "\(message.topic)", "partition": "\(message.partition)", "offset": "\(message.offset)", "error": "\(error)"])
            }
        }
        var failures = 0
        while true {
            do {
                try await store.keepRequests(jobs)
                break
            } catch {
                failures += 1
                let delayMs = LedgerWriter.retryBackoff.delayMs(retry: failures)
                logger.warning("storing job requests failed; retrying", metadata: ["attempt": "\(failures)", "error": "\(error)"])
                // At shutdown nothing is gained by waiting: the records are redelivered next time.
                if Task.isShuttingDownGracefully { throw error }
                try await Task.sleep(for: .milliseconds(delayMs))
            }
        }
        for message in batch {
            consumer.markDone(message)
        }
    }

    /// ``LedgerStore/finished(_:)``; when the ledger cannot say, nothing is skipped (the
    /// insert checks again).
    private func finishedJobs(_ jobs: [(id: String, replay: Int)]) async -> Set<Int> {
        do {
            return try await store.finished(jobs)
        } catch {
            logger.debug("cannot check for results before keeping requests", metadata: ["error": "\(error)"])
            return []
        }
    }
}
