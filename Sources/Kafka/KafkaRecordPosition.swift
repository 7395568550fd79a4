/// Where the broker stored an acknowledged record: its partition and offset.
public struct KafkaRecordPosition: Sendable, Hashable {
    public var partition: Int32
    public var offset: Int64

    public init(partition: Int32, offset: Int64) {
        self.partition = partition
        self.offset = offset
    }
}
