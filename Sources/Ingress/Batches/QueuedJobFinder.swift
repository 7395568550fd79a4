import Kafka
import Logging
import SluiceCore

/// Finds which of a batch's jobs are on the job topic already, by reading the topic itself.
///
/// A batch resumed after its ingest died must not queue a line twice: the workers do not
/// deduplicate job ids (a job on the topic twice runs twice at the provider; only the ledger
/// keeps one result), and the ledger learns of queued jobs only as fast as it consumes, so only
/// the topic knows for sure. The process that queued them is gone, so every record it got onto
/// the topic is there by the time this reads up to the end offsets seen at start. Reading
/// begins at the batch's creation time (less a margin for clock skew), not at the beginning.
public struct QueuedJobFinder: Sendable {
    /// Connection settings; `topics` and `startTimestampMs` are set per search.
    let reader: KafkaTopicReader.Configuration
    let logger: Logger

    public init(reader: KafkaTopicReader.Configuration, logger: Logger) {
        self.reader = reader
        self.logger = logger
    }

    /// The records' timestamps are the producing machine's clock: read this much earlier than
    /// the batch's creation.
    static let clockSkewMarginMs: Int64 = 5 * 60_000

    /// Which of `jobIDs` have a record on `topic` written since `sinceMs`.
    ///
    /// - Throws: `KafkaError` when the topic cannot be read.
    func queued(among jobIDs: Set<String>, topic: String, sinceMs: Int64) async throws -> Set<String> {
        try await queued(among: jobIDs, topics: [topic], sinceMs: sinceMs)
    }

    /// Which of `jobIDs` have a record on any of `topics` written since `sinceMs`, read by one
    /// reader (one start and one wait for the end offsets, however many topics).
    ///
    /// - Throws: `KafkaError` when a topic cannot be read.
    public func queued(among jobIDs: Set<String>, topics: [String], sinceMs: Int64) async throws -> Set<String> {
        guard !jobIDs.isEmpty, !topics.isEmpty else { return [] }
        var configuration = reader
        configuration.topics = topics
        configuration.startTimestampMs = max(0, sinceMs.subtractingReportingOverflow(Self.clockSkewMarginMs).partialValue)
        // The job topics are not compacted: the end offsets are reached, so a quiet spell
        // (a slow first fetch) must not count as the end.
        configuration.idleCaughtUpMs = max(configuration.idleCaughtUpMs, 60_000)
        let topicReader = try KafkaTopicReader(configuration: configuration, logger: logger)
        var found: Set<String> = []
        do {
            try await topicReader.start()
            while true {
                if let message = try topicReader.poll() {
                    if let id = message.header(RecordHeader.jobID), jobIDs.contains(id) { found.insert(id) }
                    continue
                }
                if topicReader.isCaughtUp { break }
                try await Task.sleep(for: .milliseconds(20))
            }
        } catch {
            await topicReader.close()
            throw error
        }
        await topicReader.close()
        return found
    }
}
