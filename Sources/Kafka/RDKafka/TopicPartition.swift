internal import CRdKafka

/// A topic and partition, the unit of assignment, pausing and offset bookkeeping.
struct TopicPartition: Hashable, Sendable, CustomStringConvertible {
    var topic: String
    var partition: Int32

    var description: String { "\(topic)[\(partition)]" }
}

// MARK: - librdkafka partition lists

/// Builds and reads `rd_kafka_topic_partition_list_t`.
enum RDKafkaPartitionList {
    /// Reads the topics and partitions of a list (offsets are ignored).
    static func read(_ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> [TopicPartition] {
        let count = Int(list.pointee.cnt)
        guard count > 0, let elements = list.pointee.elems else { return [] }
        return (0..<count).map { index in
            TopicPartition(topic: String(cString: elements[index].topic), partition: elements[index].partition)
        }
    }

    /// Creates a list (offset set where given), passes it to `body`, then destroys it.
    static func with<T>(
        _ entries: [(TopicPartition, Int64?)],
        _ body: (UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> T
    ) -> T {
        let list = rd_kafka_topic_partition_list_new(Int32(max(entries.count, 1)))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for (topicPartition, offset) in entries {
            let element = rd_kafka_topic_partition_list_add(list, topicPartition.topic, topicPartition.partition)!
            if let offset {
                element.pointee.offset = offset
            }
        }
        return body(list)
    }

    /// The first per-partition error of a list after a call such as `rd_kafka_offsets_store`.
    static func firstError(_ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> (TopicPartition, rd_kafka_resp_err_t)? {
        let count = Int(list.pointee.cnt)
        guard count > 0, let elements = list.pointee.elems else { return nil }
        for index in 0..<count where elements[index].err != RD_KAFKA_RESP_ERR_NO_ERROR {
            return (TopicPartition(topic: String(cString: elements[index].topic), partition: elements[index].partition), elements[index].err)
        }
        return nil
    }
}
