/// A record to store, with the Kafka position and bytes it came from.
///
/// The position and bytes are only used when the store cannot write the record: they then go
/// to `ledger_rejects`, so that an operator can find, fix and replay it.
public struct LedgerEntry: Sendable, Equatable {
    public var record: LedgerRecord
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    /// The record's value as it arrived.
    public var value: [UInt8]

    public init(record: LedgerRecord, topic: String, partition: Int32, offset: Int64, value: [UInt8]) {
        self.record = record
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.value = value
    }
}
