/// A record the ledger set aside instead of storing: undecodable, or refused by SQLite for its
/// own content. One row of `ledger_rejects`.
///
/// Setting it aside lets the rest of its batch be written and the batch's offsets committed;
/// without that, one bad record would stop the ledger for good.
public struct LedgerReject: Sendable, Equatable {
    /// Values longer than this are stored cut to this length (`valueBytes` keeps the full
    /// length). Kafka's default `message.max.bytes` is about 1 MB, so in practice the whole
    /// record is kept.
    public static let maxStoredValueBytes = 1 << 20

    public var topic: String
    public var partition: Int32
    public var offset: Int64
    /// The record's value, at most ``maxStoredValueBytes`` of it.
    public var value: [UInt8]
    /// The length of the value as it arrived.
    public var valueBytes: Int
    /// Why it was not stored.
    public var error: String
    /// When it was set aside (Unix milliseconds).
    public var atMs: Int64

    /// - Parameter value: the record's full value; it is cut to ``maxStoredValueBytes`` here.
    public init(topic: String, partition: Int32, offset: Int64, value: [UInt8], error: String, atMs: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.value = Array(value.prefix(Self.maxStoredValueBytes))
        self.valueBytes = value.count
        self.error = error
        self.atMs = atMs
    }

    /// Internal: rebuilds a stored reject as it is (value already cut, length known).
    init(topic: String, partition: Int32, offset: Int64, storedValue: [UInt8], valueBytes: Int, error: String, atMs: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.value = storedValue
        self.valueBytes = valueBytes
        self.error = error
        self.atMs = atMs
    }
}
