/// Settings for `KafkaProducer`.
///
/// Idempotence (`enable.idempotence=true`, which implies `acks=all`) is not a setting: Sluice
/// relies on it for ordered, duplicate-free sends. Anything else librdkafka knows can be set
/// through `additionalProperties`.
public struct KafkaProducerConfiguration: Sendable {
    /// `bootstrap.servers`, such as `127.0.0.1:9092`.
    public var bootstrapServers: String
    /// `client.id`. Default: `sluice`.
    public var clientID: String = "sluice"
    /// `linger.ms`: how long librdkafka waits to fill a batch. Default: 5.
    public var lingerMs: Int = 5
    /// `compression.type`. Default: `lz4`.
    public var compression: String = "lz4"
    /// `message.timeout.ms`: bounds how long a send may wait for a broker (the delivery report
    /// then carries `_MSG_TIMED_OUT`); it also bounds how long a send waits out a full local
    /// queue. The ingress sets about 4000 so that a dead broker becomes a 503 within 5 s.
    /// Default: 30 000.
    public var messageTimeoutMs: Int = 30_000
    /// `partitioner`. Default: `murmur2_random` (Java-compatible). Changing it moves keys between
    /// partitions, so pick one and keep it.
    public var partitioner: String = "murmur2_random"
    /// After an UNKNOWN_PRODUCER_ID that persists (a broker that lost its state, such as the
    /// in-memory dev broker after a restart), replace the instance instead of waiting forever.
    /// Real Kafka resolves that case itself, so only dev setups turn this on. Default: false.
    public var recoversFromLostBrokerState = false
    /// Passed to librdkafka as is, after everything above (so these win). Reserved properties
    /// (see `reservedProperties`) are refused.
    public var additionalProperties: [String: String] = [:]

    public init(bootstrapServers: String) {
        self.bootstrapServers = bootstrapServers
    }

    /// Properties the producer's guarantees rest on; `additionalProperties` may not set them.
    ///
    /// Idempotence with `acks=all` is what lets a 202 mean "durably queued, once"; the
    /// partitioner decides which partition a tenant lands on, and the message timeout is how
    /// the ingress turns a dead broker into a timely 503.
    public static let reservedProperties: Set<String> = [
        "enable.idempotence", "acks", "request.required.acks", "max.in.flight.requests.per.connection",
        "max.in.flight", "enable.gapless.guarantee", "transactional.id", "partitioner", "message.timeout.ms",
        "delivery.timeout.ms", "bootstrap.servers",
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
            ("client.id", clientID),
            ("enable.idempotence", "true"),
            ("acks", "all"),
            ("linger.ms", String(lingerMs)),
            ("compression.type", compression),
            ("message.timeout.ms", String(messageTimeoutMs)),
            ("partitioner", partitioner),
            // The producer watches the idempotence debug log for UNKNOWN_PRODUCER_ID (see
            // ProducerCore.checkUnknownProducerID); these lines are rare and go out at debug level.
            ("debug", "eos"),
        ]
        for (name, value) in additionalProperties.sorted(by: { $0.key < $1.key }) {
            if name == "debug", !value.split(separator: ",").contains(where: { $0 == "eos" || $0 == "all" }) {
                result.append((name, value.isEmpty ? "eos" : "\(value),eos"))
            } else {
                result.append((name, value))
            }
        }
        return result
    }
}
