/// One topic to create: what `KafkaAdmin.createTopics` needs to know.
public struct KafkaTopicSpecification: Sendable, Hashable {
    public var name: String
    public var partitions: Int
    /// -1: the broker's default.
    public var replicationFactor: Int
    /// Topic configs passed to the broker as is (`retention.ms`, `cleanup.policy`, …).
    public var config: [String: String]

    public init(name: String, partitions: Int, replicationFactor: Int = -1, config: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.config = config
    }
}
