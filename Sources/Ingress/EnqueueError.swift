import Kafka

/// Why a job could not be queued, and whether it may have been queued anyway.
///
/// A job is two records (the job and its `job.accepted`). A send that timed out, one lost to a
/// rebuilt producer instance, or a pair of which only one record was acknowledged leaves the
/// outcome unknown: the broker may have stored the job. The client must then hear that, since
/// retrying without an `Idempotency-Key` could create a second job.
public struct EnqueueError: Error, Sendable, CustomStringConvertible {
    /// Whether the job may have reached the queue despite the failure.
    public var mayHaveBeenQueued: Bool
    /// The first failure of the job record, then of the audit record, as the producer reported it.
    public var failures: [KafkaError]

    public init(mayHaveBeenQueued: Bool, failures: [KafkaError]) {
        self.mayHaveBeenQueued = mayHaveBeenQueued
        self.failures = failures
    }

    /// Codes that say the record never left this process (or the broker refused it outright):
    /// it was not stored. Any other failure may have come after the broker stored the record.
    static let notStoredCodes: Set<KafkaError.Code> = [
        .queueFull, .purgedQueue, .destroyed, .invalidArgument, .unknownTopic, .unknownPartition,
        .messageSizeTooLarge,
    ]

    /// Classifies the outcome of sending a job's two records.
    ///
    /// - Parameters:
    ///   - failures: The error of each record that failed.
    ///   - delivered: How many records were acknowledged.
    static func classify(failures: [KafkaError], delivered: Int) -> EnqueueError {
        let uncertain = delivered > 0 || failures.contains { !notStoredCodes.contains($0.code) || $0.isFatal }
        return EnqueueError(mayHaveBeenQueued: uncertain, failures: failures)
    }

    public var description: String {
        "enqueue failed (\(mayHaveBeenQueued ? "outcome unknown" : "nothing queued")): "
            + failures.map(\.description).joined(separator: "; ")
    }
}
