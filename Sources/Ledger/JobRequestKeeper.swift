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
        var jobs: [(envelope: JobEnvelope, bytes: [UInt8])] = []
        for message in batch {
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
}
