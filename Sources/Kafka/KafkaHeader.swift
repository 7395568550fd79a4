/// One Kafka record header.
///
/// Values are bytes because Kafka allows any bytes; the `String` initialiser covers the common
/// case (Sluice's own headers are UTF-8 text).
public struct KafkaHeader: Sendable, Hashable {
    public var key: String
    public var value: [UInt8]

    public init(key: String, value: [UInt8]) {
        self.key = key
        self.value = value
    }

    /// A header with a UTF-8 text value.
    public init(key: String, value: String) {
        self.init(key: key, value: Array(value.utf8))
    }
}
