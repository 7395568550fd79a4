internal import CRdKafka
import Foundation
import Logging
import Synchronization

/// Reads every partition of some topics from the beginning (or, with `startsAtEnd`, only what
/// arrives after ``start()``), outside any consumer group, and knows when it has read
/// everything that was there when it started.
///
/// For readers that must see *all* records rather than a share of them, and must not move
/// anyone's committed offsets: every worker process reading the compacted control topic, and
/// the `sluice dlq` tools reading the DLQ. It assigns partitions itself (`rd_kafka_assign`),
/// so it never joins a group, is never rebalanced and commits nothing; librdkafka still wants
/// a `group.id` for an assignment, which is therefore set but never used on the broker.
///
/// Partitions are those the topics have at ``start()``; partitions added later are not read
/// (the control topic has one partition).
///
/// - Important: Not for concurrent use: one task calls ``start()``, ``poll()`` and ``close()``.
public final class KafkaTopicReader: Sendable {
    /// Settings of a ``KafkaTopicReader``.
    public struct Configuration: Sendable {
        public var bootstrapServers: String
        public var topics: [String]
        /// `client.id`. Default: `sluice-reader`.
        public var clientID: String = "sluice-reader"
        /// `group.id`, required by librdkafka for an assignment; the reader never joins it and
        /// never commits to it. Default: `sluice-reader`.
        public var groupID: String = "sluice-reader"
        /// Bounds the metadata and watermark requests of ``start()``. Default: 10000.
        public var timeoutMs: Int = 10_000
        /// A reader that received nothing for this long counts as caught up even if it has not
        /// reached the end offsets seen at start (records compacted away at the tail of a
        /// compacted topic are never delivered). Default: 3000.
        public var idleCaughtUpMs: Int = 3_000
        /// Passed to librdkafka as is (security settings and the like).
        public var additionalProperties: [String: String] = [:]
        /// Start at each partition's end offset as ``start()`` finds it, for a reader that needs
        /// only what happens from now on (its past is known from elsewhere). The reader is
        /// caught up at once. Default: false (from the beginning).
        public var startsAtEnd: Bool = false
        /// Starts each partition at its first record written at or after this time (Unix ms,
        /// the records' timestamps) instead of at the beginning; a partition whose broker cannot
        /// look up times is read from the beginning. Default: nil (from the beginning).
        public var startTimestampMs: Int64?

        public init(bootstrapServers: String, topics: [String]) {
            self.bootstrapServers = bootstrapServers
            self.topics = topics
        }
    }

    private struct Partition: Hashable {
        var topic: String
        var partition: Int32
    }

    private struct State {
        /// Next offset to read, per partition.
        var positions: [Partition: Int64] = [:]
        /// The high watermark of each partition at start.
        var ends: [Partition: Int64] = [:]
        var startedAt: ContinuousClock.Instant?
        var lastMessageAt: ContinuousClock.Instant?
        var caughtUp = false
        var closed = false
    }

    private let configuration: Configuration
    private let client: RDKafkaClient
    private let state = Mutex(State())
    private let logger: Logger

    /// Creates the librdkafka instance; nothing is fetched until ``start()``.
    ///
    /// - Throws: `KafkaError` (`invalidArgument`) for a property librdkafka rejects.
    public init(configuration: Configuration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        var properties: [(String, String)] = [
            ("bootstrap.servers", configuration.bootstrapServers),
            ("group.id", configuration.groupID),
            ("client.id", configuration.clientID),
            ("enable.auto.commit", "false"),
            ("enable.auto.offset.store", "false"),
            ("enable.partition.eof", "false"),
            // A position past the log end (the topic was recreated, as after a restart of the
            // in-memory dev broker) starts over from the beginning rather than skipping ahead.
            ("auto.offset.reset", "earliest"),
        ]
        properties += configuration.additionalProperties.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        client = try RDKafkaClient.make(kind: .consumer, properties: properties, callbacks: RDKafkaCallbacks(logger: logger))
        rd_kafka_poll_set_consumer(client.handle.pointer)
    }

    deinit {
        let (client, closed) = (client, state.withLock { $0.closed })
        if !closed { DedicatedThread.start(name: "sluice-reader-destroy") { client.destroy(skipConsumerClose: true) } }
    }

    /// Finds the topics' partitions and their end offsets and assigns them all from the start
    /// (or from those end offsets, with `startsAtEnd`).
    ///
    /// - Throws: `KafkaError` when a topic does not exist or the broker does not answer in
    ///   `timeoutMs`.
    public func start() async throws {
        let handle = client.handle
        let topics = configuration.topics
        let timeout = Int32(clamping: configuration.timeoutMs)
        let atEnd = configuration.startsAtEnd
        let since = configuration.startTimestampMs
        let result = await DedicatedThread.run(name: "sluice-reader-start") {
            Result { () throws(KafkaError) -> (ends: [Partition: Int64], starts: [Partition: Int64]) in
                try Self.assign(handle.pointer, topics: topics, atEnd: atEnd, sinceMs: since, timeoutMs: timeout)
            }
        }
        let (ends, starts) = try result.get()
        state.withLock { state in
            state.ends = ends
            // Partitions without a known start offset are read from the beginning (0).
            state.positions = ends.mapValues { _ in 0 }.merging(starts) { _, start in start }
            state.startedAt = .now
        }
        logger.debug("topic reader assigned", metadata: ["topics": "\(topics)", "partitions": "\(ends.count)"])
    }

    /// The next fetched record, or nil when none is waiting. Does not block.
    ///
    /// - Throws: `KafkaError` (`isFatal`) when the instance hit a fatal error.
    public func poll() throws(KafkaError) -> KafkaMessage? {
        try poll(waitingUpToMs: 0)
    }

    /// The next fetched record, waiting up to `waitingUpToMs` for one; nil when none came.
    ///
    /// - Important: Blocks the calling thread: call it from a dedicated thread, never from the
    ///   cooperative pool.
    public func poll(waitingUpToMs: Int) throws(KafkaError) -> KafkaMessage? {
        guard !state.withLock({ $0.closed }) else { return nil }
        let rk = client.handle.pointer
        var wait = Int32(clamping: max(0, waitingUpToMs))
        while let message = rd_kafka_consumer_poll(rk, wait) {
            wait = 0
            defer { rd_kafka_message_destroy(message) }
            let err = message.pointee.err
            if err == RD_KAFKA_RESP_ERR_NO_ERROR {
                let record = RDKafkaRecords.message(from: UnsafePointer(message), generation: 0)
                state.withLock { state in
                    let key = Partition(topic: record.topic, partition: record.partition)
                    state.positions[key] = max(state.positions[key] ?? 0, record.offset + 1)
                    state.lastMessageAt = .now
                }
                return record
            }
            if err == RD_KAFKA_RESP_ERR__FATAL {
                throw KafkaError(code: .fatal, message: "fatal Kafka error in a topic reader", isRetriable: false, isFatal: true)
            }
            let error = KafkaError(err, context: "topic reader")
            logger.log(level: error.isRetriable ? .debug : .warning, "Kafka topic reader error event", metadata: ["error": "\(error)"])
        }
        return nil
    }

    /// Whether everything that was in the topics at ``start()`` has been read: each partition's
    /// position reached its end offset, or nothing arrived for `idleCaughtUpMs`. Once true it
    /// stays true.
    public var isCaughtUp: Bool {
        let idle = Duration.milliseconds(configuration.idleCaughtUpMs)
        return state.withLock { state in
            if state.caughtUp { return true }
            guard let startedAt = state.startedAt else { return false }
            let reachedEnds = state.ends.allSatisfy { key, end in (state.positions[key] ?? 0) >= end }
            let quietSince = state.lastMessageAt ?? startedAt
            if reachedEnds || ContinuousClock.now - quietSince >= idle { state.caughtUp = true }
            return state.caughtUp
        }
    }

    /// Destroys the instance (on a dedicated thread). Nothing is committed: there is nothing to.
    public func close() async {
        let first = state.withLock { state in
            defer { state.closed = true }
            return !state.closed
        }
        guard first else { return }
        let client = client
        await DedicatedThread.run(name: "sluice-reader-destroy") {
            _ = rd_kafka_assign(client.handle.pointer, nil)
            client.destroy(skipConsumerClose: true)
        }
    }

    // MARK: - Blocking

    /// Assigns every partition of `topics`: at its end (`atEnd`), at the first record at or after
    /// `sinceMs`, or at the beginning. Returns the end offsets and the start offsets it knows.
    private static func assign(
        _ rk: OpaquePointer, topics: [String], atEnd: Bool, sinceMs: Int64?, timeoutMs: Int32
    ) throws(KafkaError) -> (ends: [Partition: Int64], starts: [Partition: Int64]) {
        var ends: [Partition: Int64] = [:]
        for topic in topics {
            let count = try partitionCount(rk, topic: topic, timeoutMs: timeoutMs)
            for partition in 0..<count {
                var low: Int64 = 0
                var high: Int64 = 0
                let err = rd_kafka_query_watermark_offsets(rk, topic, partition, &low, &high, Int32(timeoutMs))
                guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                    throw KafkaError(err, context: "watermarks of \(topic)/\(partition)")
                }
                ends[Partition(topic: topic, partition: partition)] = high
            }
        }
        guard let list = rd_kafka_topic_partition_list_new(Int32(clamping: max(1, ends.count))) else {
            throw KafkaError(code: .invalidArgument, message: "rd_kafka_topic_partition_list_new failed", isRetriable: false)
        }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        var starts: [Partition: Int64] = [:]
        if atEnd {
            for (key, end) in ends {
                // The end as an absolute offset, not OFFSET_END: a record produced between the
                // watermark query and the assignment is still read.
                rd_kafka_topic_partition_list_add(list, key.topic, key.partition).pointee.offset = end
            }
            starts = ends
        } else {
            for key in ends.keys {
                // offsets_for_times takes the timestamp in the offset field and answers the offset there.
                rd_kafka_topic_partition_list_add(list, key.topic, key.partition).pointee.offset = sinceMs ?? sluice_offset_beginning()
            }
        }
        if !atEnd, sinceMs != nil {
            let lookup = rd_kafka_offsets_for_times(rk, list, timeoutMs)
            for index in 0..<Int(list.pointee.cnt) {
                let element = list.pointee.elems[index]
                let key = Partition(topic: String(cString: element.topic), partition: element.partition)
                if lookup != RD_KAFKA_RESP_ERR_NO_ERROR || element.err != RD_KAFKA_RESP_ERR_NO_ERROR || element.offset < 0 {
                    // No record at or after the time (-1: start at the end), or no answer:
                    // the end, or the beginning to be safe.
                    let found = lookup == RD_KAFKA_RESP_ERR_NO_ERROR && element.err == RD_KAFKA_RESP_ERR_NO_ERROR
                    list.pointee.elems[index].offset = found ? (ends[key] ?? sluice_offset_beginning()) : sluice_offset_beginning()
                }
                if list.pointee.elems[index].offset >= 0 { starts[key] = list.pointee.elems[index].offset }
            }
        }
        let err = rd_kafka_assign(rk, list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, context: "assigning \(topics)") }
        return (ends, starts)
    }

    private static func partitionCount(_ rk: OpaquePointer, topic: String, timeoutMs: Int32) throws(KafkaError) -> Int32 {
        guard let rkt = rd_kafka_topic_new(rk, topic, nil) else {
            throw KafkaError(code: .invalidArgument, message: "rd_kafka_topic_new(\(topic)) failed", isRetriable: false)
        }
        defer { rd_kafka_topic_destroy(rkt) }
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let err = rd_kafka_metadata(rk, 0, rkt, &metadata, timeoutMs)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else { throw KafkaError(err, context: "metadata of \(topic)") }
        defer { rd_kafka_metadata_destroy(metadata) }
        guard metadata.pointee.topic_cnt > 0, let described = metadata.pointee.topics else {
            throw KafkaError(code: .unknownTopic, message: "topic \(topic) not found", isRetriable: true)
        }
        let topicErr = described.pointee.err
        guard topicErr == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(topicErr, context: "topic \(topic)") }
        return described.pointee.partition_cnt
    }
}
