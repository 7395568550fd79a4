import Foundation
import Kafka
import Logging
import ServiceLifecycle
import SluiceCore
import Synchronization

/// Reads `sluice.results` from its end, outside any consumer group (every ingress process must
/// see every result: its waiting requests' jobs may have run anywhere), and wakes the
/// synchronous completions whose results pass.
///
/// Only record headers are looked at (`sluice-job-id`); nothing is committed. At start it begins
/// a little before now, so a result that raced the start is still seen.
public struct SyncResultListener: Service {
    let reader: KafkaTopicReader.Configuration
    let waiters: SyncResultWaiters
    let logger: Logger

    /// - Parameter reader: connection settings; `topics` names the results topic.
    public init(reader: KafkaTopicReader.Configuration, waiters: SyncResultWaiters, logger: Logger) {
        var reader = reader
        reader.startTimestampMs = Int64(Date().timeIntervalSince1970 * 1_000) - 10_000
        self.reader = reader
        self.waiters = waiters
        self.logger = logger
    }

    public func run() async throws {
        let topicReader = try KafkaTopicReader(configuration: reader, logger: logger)
        do {
            try await topicReader.start()
        } catch {
            // Without it waiters fall back to reading the ledger every second.
            logger.error("sync result listener could not start; waiting requests poll the ledger", metadata: ["error": "\(error)"])
            await topicReader.close()
            return
        }
        let waiters = self.waiters
        let logger = self.logger
        let stop = StopFlag()
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                // librdkafka's poll blocks: a thread of its own, never the cooperative pool.
                await DedicatedThread.run(name: "sluice-sync-results") {
                    while !stop.isSet {
                        do {
                            if let message = try topicReader.poll(waitingUpToMs: 100), let id = message.header(RecordHeader.jobID) {
                                waiters.resultArrived(jobID: id)
                            }
                        } catch {
                            logger.error("sync result listener stopped", metadata: ["error": "\(error)"])
                            return
                        }
                    }
                }
            } onCancel: {
                stop.set()
            }
        } onGracefulShutdown: {
            stop.set()
        }
        await topicReader.close()
    }
}

/// A flag set once from any thread.
final class StopFlag: Sendable {
    private let value = Mutex(false)
    var isSet: Bool { value.withLock { $0 } }
    func set() { value.withLock { $0 = true } }
}
