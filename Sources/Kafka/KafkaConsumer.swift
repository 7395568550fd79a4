import Logging
import ServiceLifecycle

/// Consumer group member: cooperative-sticky assignment, manual offset store (at-least-once),
/// pause/resume back-pressure.
///
/// Read `messages` (one reader), call `markDone(_:)` when a message's work is finished (in any
/// order), and run the consumer as a `Service`. The stored (and auto-committed) offset of each
/// partition is its lowest unfinished offset, so after a crash or a rebalance nothing unfinished
/// is skipped; finished messages above an unfinished one may be read again (the ledger's
/// idempotence absorbs that).
public final class KafkaConsumer: Service, Sendable {
    // MARK: - Properties

    let core: ConsumerCore

    // MARK: - Life cycle

    /// Creates the librdkafka instance; nothing is fetched until `run()`.
    ///
    /// - Throws: `KafkaError` (`invalidArgument`) for a rejected property, no topics, or
    ///   `maxOutstanding` below 1.
    public init(configuration: KafkaConsumerConfiguration, logger: Logger) throws {
        core = try ConsumerCore(configuration: configuration, logger: logger)
    }

    deinit {
        core.releaseIfNotRunning()
    }

    // MARK: - Consuming

    /// The fetched messages.
    ///
    /// - Important: one reader only. Ends (returns nil) at graceful shutdown.
    public var messages: ConsumerMessages {
        ConsumerMessages(core: core)
    }

    /// The app finished this message (result produced or moved on).
    ///
    /// Stores offset = lowest unfinished offset of that partition (the next offset to read is
    /// the last contiguous done one + 1); librdkafka auto-commits stored offsets. Ignored for a
    /// message whose partition was revoked since it was handed out, and for a second call.
    public func markDone(_ message: KafkaMessage) {
        core.markDone(message)
    }

    /// The app gives up `message` without finishing it (shutdown, or its partition was revoked
    /// before the work started).
    ///
    /// It stops counting against `maxOutstanding`, and its offset stays uncommitted: the message
    /// is read again, by this member after a restart or by the partition's next owner.
    public func release(_ message: KafkaMessage) {
        core.release(message)
    }

    /// Whether `message`'s partition is still assigned to this member in the assignment it came
    /// from. A message whose partition was revoked since is the new owner's to run.
    public func isCurrent(_ message: KafkaMessage) -> Bool {
        core.isCurrent(message)
    }

    /// Partitions assigned to this member now. A worker's share of a fleet-wide limit is this
    /// over the topics' partition count.
    public var assignedPartitionCount: Int {
        core.snapshot.assigned
    }

    // MARK: - Observing

    /// What the member holds now, for readiness and metrics.
    public var status: KafkaConsumerStatus {
        let snapshot = core.snapshot
        return KafkaConsumerStatus(
            joinedGroup: core.joined, assignedPartitions: snapshot.assigned, outstanding: snapshot.outstanding,
            buffered: snapshot.buffered)
    }

    /// Consumer lag of each assigned partition whose position and end are known: records after
    /// the offset this member would commit, as of librdkafka's last fetch (sampled about once
    /// a second).
    public var partitionLags: [KafkaPartitionLag] {
        core.lags.map { KafkaPartitionLag(topic: $0.key.topic, partition: Int($0.key.partition), lag: $0.value) }
            .sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
    }

    // MARK: - Service

    /// Polls on a dedicated thread until graceful shutdown; then stops handing out messages,
    /// waits (up to `drainTimeoutMs`) until every handed-out message is marked done, stores
    /// offsets, commits synchronously, leaves the group (`rd_kafka_consumer_close`) and destroys
    /// the instance. Cancellation does the same without waiting for handed-out messages.
    ///
    /// - Throws: `KafkaError` when subscribing failed, `run()` was called twice, or the
    ///   instance hit a fatal error (`isFatal`; the process should exit and be restarted).
    public func run() async throws {
        guard try core.start() else { return }
        let core = self.core
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await core.waitUntilClosed()
            } onGracefulShutdown: {
                core.requestShutdown(drain: true)
            }
        } onCancel: {
            core.requestShutdown(drain: false)
        }
        if let error = core.runError {
            throw error
        }
    }
}

/// A consumer group member's state at one moment.
public struct KafkaConsumerStatus: Sendable {
    /// The group has given this member an assignment (possibly empty, when the group has more
    /// members than partitions) and has not taken it away by an error since.
    public var joinedGroup: Bool
    /// How many partitions it owns.
    public var assignedPartitions: Int
    /// Messages handed out and not yet marked done or released: the work in flight.
    public var outstanding: Int
    /// Messages fetched and waiting to be handed out.
    public var buffered: Int
}

/// How far one partition's committed position is behind its end.
public struct KafkaPartitionLag: Sendable, Equatable {
    public var topic: String
    public var partition: Int
    /// Records not yet finished by the group on this partition.
    public var lag: Int64
}
