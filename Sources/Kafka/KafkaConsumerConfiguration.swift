/// Settings for `KafkaConsumer`.
///
/// Offsets are managed by the consumer (at-least-once: `enable.auto.offset.store=false`, stored
/// as messages are marked done, auto-committed) and the assignment strategy is
/// `cooperative-sticky`; those are not settings because the consumer's bookkeeping depends on them.
public struct KafkaConsumerConfiguration: Sendable {
    /// `bootstrap.servers`.
    public var bootstrapServers: String
    /// `group.id`.
    public var groupID: String
    /// The topics to subscribe to.
    public var topics: [String]
    /// `client.id`. Default: `sluice`.
    public var clientID: String = "sluice"
    /// `session.timeout.ms`. Default: 45 000. Against the dev broker use about 6000: its group
    /// joins wait in proportion to it.
    public var sessionTimeoutMs: Int = 45_000
    /// `heartbeat.interval.ms`. Default: 3000 (1000–2000 with a 6000 session timeout).
    public var heartbeatIntervalMs: Int = 3_000
    /// `max.poll.interval.ms`. The consumer polls all the time (also while paused), so slow jobs
    /// do not count against it. Default: 300 000.
    public var maxPollIntervalMs: Int = 300_000
    /// `auto.offset.reset` for partitions without a committed offset. Default: `earliest`.
    public var autoOffsetReset: String = "earliest"
    /// `auto.commit.interval.ms`: how often stored offsets are committed. Default: 1000.
    public var autoCommitIntervalMs: Int = 1_000
    /// Messages handed out by `messages` and not yet marked done. At this bound `messages`
    /// hands out nothing more until one is marked done; fetched messages wait in a buffer of the
    /// same size, and when that buffer stays full for a second every assigned partition is
    /// paused (polling goes on, so the member stays in the group) and resumed once half of it
    /// was taken. The grace second keeps a fast reader from paying a refetch at every
    /// momentary high-water mark. Default: 256.
    public var maxOutstanding: Int = 256
    /// How long a graceful shutdown waits for handed-out messages to be marked done. Default: 30 000.
    public var drainTimeoutMs: Int = 30_000
    /// Passed to librdkafka as is, after everything above (so these win).
    public var additionalProperties: [String: String] = [:]

    public init(bootstrapServers: String, groupID: String, topics: [String]) {
        self.bootstrapServers = bootstrapServers
        self.groupID = groupID
        self.topics = topics
    }

    /// Properties the consumer's guarantees rest on; `additionalProperties` may not set them.
    ///
    /// Manual offset storing and commit behind finished work is what makes consumption
    /// at-least-once; the rebalance callback speaks the cooperative protocol only; an
    /// `auto.offset.reset` of `latest` would skip every job queued before a new group first
    /// joined.
    public static let reservedProperties: Set<String> = [
        "enable.auto.commit", "enable.auto.offset.store", "partition.assignment.strategy", "group.protocol",
        "isolation.level", "enable.partition.eof", "group.id", "auto.offset.reset", "bootstrap.servers",
    ]

    /// - Throws: `KafkaError` (`invalidArgument`) naming the first reserved property set in
    ///   `additionalProperties`.
    func validate() throws(KafkaError) {
        if let key = additionalProperties.keys.sorted().first(where: Self.reservedProperties.contains) {
            throw KafkaError.reservedProperty(key)
        }
    }

    /// The librdkafka properties, in the order they are applied.
    var properties: [(String, String)] {
        var result: [(String, String)] = [
            ("bootstrap.servers", bootstrapServers),
            ("group.id", groupID),
            ("client.id", clientID),
            ("session.timeout.ms", String(sessionTimeoutMs)),
            ("heartbeat.interval.ms", String(heartbeatIntervalMs)),
            ("max.poll.interval.ms", String(maxPollIntervalMs)),
            ("auto.offset.reset", autoOffsetReset),
            ("enable.auto.commit", "true"),
            ("auto.commit.interval.ms", String(autoCommitIntervalMs)),
            ("enable.auto.offset.store", "false"),
            ("partition.assignment.strategy", "cooperative-sticky"),
            ("enable.partition.eof", "false"),
        ]
        result += additionalProperties.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        return result
    }
}
