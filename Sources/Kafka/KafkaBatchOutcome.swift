/// What became of a batch sent with `KafkaProducer.sendReportingEach(_:)`.
public struct KafkaBatchOutcome: Sendable {
    /// Records the broker acknowledged.
    public var delivered: Int
    /// The errors of the others, in the order their reports came; empty when all were stored.
    public var failures: [KafkaError]

    public init(delivered: Int, failures: [KafkaError]) {
        self.delivered = delivered
        self.failures = failures
    }
}
