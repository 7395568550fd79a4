/// A record handed out by `KafkaConsumer.messages`.
///
/// Hand it back with `KafkaConsumer.markDone(_:)` when the work for it is finished; until then
/// its offset (and every later one of its partition) stays uncommitted.
public struct KafkaMessage: Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var key: [UInt8]?
    public var value: [UInt8]
    public var headers: [KafkaHeader]
    /// The record timestamp (create or log-append time), if the broker sent one.
    public var timestampMs: Int64?

    /// Which assignment of the partition this message came from. `markDone` ignores a message
    /// whose partition was revoked (and perhaps assigned again) since, because its offset no
    /// longer belongs to this member's bookkeeping. 0 never matches a live assignment.
    var assignmentGeneration: UInt64

    /// A message not read from Kafka (tests, replays). `markDone` ignores it.
    public init(
        topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8],
        headers: [KafkaHeader] = [], timestampMs: Int64? = nil
    ) {
        self.init(
            topic: topic, partition: partition, offset: offset, key: key, value: value,
            headers: headers, timestampMs: timestampMs, assignmentGeneration: 0
        )
    }

    init(
        topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8],
        headers: [KafkaHeader], timestampMs: Int64?, assignmentGeneration: UInt64
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestampMs = timestampMs
        self.assignmentGeneration = assignmentGeneration
    }

    /// The UTF-8 value of the first header with that key (`nil` if absent or not UTF-8).
    public func header(_ name: String) -> String? {
        guard let header = headers.first(where: { $0.key == name }) else { return nil }
        return String(validating: header.value, as: UTF8.self)
    }
}
