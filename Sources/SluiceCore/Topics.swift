/// The names of Sluice's topics under one prefix.
///
/// `topics/*.yaml` names topics with the canonical prefix `sluice`; a deployment (or a test)
/// may choose another prefix so that several Sluices can share one cluster.
public struct TopicCatalog: Sendable, Hashable {
    public static let canonicalPrefix = "sluice"

    /// Default: `sluice`.
    public var prefix: String

    public init(prefix: String = TopicCatalog.canonicalPrefix) { self.prefix = prefix }

    public func jobs(_ priority: Priority) -> String { "\(prefix).jobs.\(priority.rawValue)" }
    public var allJobs: [String] { Priority.allCases.map(jobs) }
    public var results: String { "\(prefix).results" }
    public var audit: String { "\(prefix).audit" }
    public var jobsDLQ: String { "\(prefix).jobs.dlq" }

    // MARK: - Consumer groups

    /// Consumer groups carry the prefix too: two Sluices sharing a cluster must not share a
    /// group, or each would be handed partitions of topics it never reads. With the canonical
    /// prefix these are `sluice-workers`, `sluice-retry` and `sluice-ledger`.
    public var workersGroup: String { "\(prefix)-workers" }
    public var retryGroup: String { "\(prefix)-retry" }
    public var ledgerGroup: String { "\(prefix)-ledger" }

    /// The delay buckets of `sluice.jobs.retry.<delay>`, shortest first, as (suffix, ms).
    public static let retryDelays: [(name: String, ms: Int)] = [
        ("5s", 5_000), ("1m", 60_000), ("10m", 600_000), ("1h", 3_600_000),
    ]

    public var allJobRetries: [String] { Self.retryDelays.map { "\(prefix).jobs.retry.\($0.name)" } }

    /// The retry topic for a wait of `delayMs`: the longest bucket not longer than the wait
    /// (the shortest for shorter waits). The job carries its exact not-before time; the bucket
    /// only keeps waits of one order of magnitude together.
    public func jobRetry(delayMs: Int) -> String {
        let bucket = Self.retryDelays.last { $0.ms <= delayMs } ?? Self.retryDelays[0]
        return "\(prefix).jobs.retry.\(bucket.name)"
    }
    public var control: String { "\(prefix).control" }

    // MARK: - Webhooks

    /// The webhook workers' group (`sluice-webhooks`): results and webhook retry topics.
    public var webhooksGroup: String { "\(prefix)-webhooks" }
    public var webhooksDLQ: String { "\(prefix).webhooks.dlq" }
    /// `sluice.webhooks.retry.<delay>`, the same buckets as the jobs' retry topics.
    public var allWebhookRetries: [String] { Self.retryDelays.map { "\(prefix).webhooks.retry.\($0.name)" } }

    /// The webhook retry topic for a wait of `delayMs` (see ``jobRetry(delayMs:)``).
    public func webhookRetry(delayMs: Int) -> String {
        let bucket = Self.retryDelays.last { $0.ms <= delayMs } ?? Self.retryDelays[0]
        return "\(prefix).webhooks.retry.\(bucket.name)"
    }

    /// Maps a canonical name from topics/*.yaml (`sluice.jobs.p0`) to this catalog's prefix.
    public func resolve(_ canonicalName: String) -> String {
        let canonical = TopicCatalog.canonicalPrefix + "."
        guard prefix != TopicCatalog.canonicalPrefix, canonicalName.hasPrefix(canonical) else { return canonicalName }
        return prefix + "." + canonicalName.dropFirst(canonical.count)
    }

    /// Which priority a jobs topic carries, or nil for any other topic.
    public func priority(ofTopic topic: String) -> Priority? {
        Priority.allCases.first { jobs($0) == topic }
    }
}
