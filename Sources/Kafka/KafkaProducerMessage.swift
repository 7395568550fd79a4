/// A record to send with `KafkaProducer`.
///
/// The key decides the partition (with the configured partitioner), so all records of one key
/// stay in order; `nil` spreads records over partitions.
public struct KafkaProducerMessage: Sendable {
    public var topic: String
    public var key: [UInt8]?
    public var value: [UInt8]
    public var headers: [KafkaHeader]

    public init(topic: String, key: [UInt8]?, value: [UInt8], headers: [KafkaHeader] = []) {
        self.topic = topic
        self.key = key
        self.value = value
        self.headers = headers
    }
}
