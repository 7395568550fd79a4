/// The bounded FIFO between the poll thread and the `messages` reader.
///
/// Bounded by pausing partitions (see `KafkaConsumerConfiguration.maxOutstanding`), not by
/// refusing: a message returned by `rd_kafka_consumer_poll` has moved the fetch position, so it
/// must be kept until it is handed out or its partition is revoked.
struct MessageBuffer: Sendable {
    private var storage: [KafkaMessage] = []
    private var head = 0

    var count: Int { storage.count - head }
    var isEmpty: Bool { count == 0 }

    mutating func append(_ message: KafkaMessage) {
        storage.append(message)
    }

    mutating func popFirst() -> KafkaMessage? {
        guard head < storage.count else { return nil }
        let message = storage[head]
        head += 1
        if head == storage.count {
            storage.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 256, head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
        return message
    }

    /// Drops the messages of revoked partitions: their new owner reads them again.
    mutating func removeAll(in partitions: Set<TopicPartition>) {
        storage = storage[head...].filter { !partitions.contains(TopicPartition(topic: $0.topic, partition: $0.partition)) }
        head = 0
    }
}
