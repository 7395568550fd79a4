import DequeModule

/// The bounded FIFO between the poll thread and the `messages` reader.
///
/// Bounded by pausing partitions (see `KafkaConsumerConfiguration.maxOutstanding`), not by
/// refusing: a message returned by `rd_kafka_consumer_poll` has moved the fetch position, so it
/// must be kept until it is handed out or its partition is revoked.
struct MessageBuffer: Sendable {
    private var storage: Deque<KafkaMessage> = []

    var count: Int { storage.count }
    var isEmpty: Bool { storage.isEmpty }

    mutating func append(_ message: KafkaMessage) {
        storage.append(message)
    }

    mutating func popFirst() -> KafkaMessage? {
        storage.popFirst()
    }

    /// Drops the messages of revoked partitions: their new owner reads them again.
    mutating func removeAll(in partitions: Set<TopicPartition>) {
        storage.removeAll { partitions.contains(TopicPartition(topic: $0.topic, partition: $0.partition)) }
    }
}
