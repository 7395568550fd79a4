/// Percentiles of a set of latencies, in milliseconds.
///
/// Nearest-rank on the sorted samples: exact, dependency-free, and cheap enough for the few
/// hundred thousand samples of one bench run.
public struct LatencySummary: Sendable, Hashable {
    public var count: Int
    public var p50Ms: Double
    public var p90Ms: Double
    public var p99Ms: Double
    public var maxMs: Double

    /// All zero when `samplesMs` is empty.
    public init(samplesMs: [Double]) {
        let sorted = samplesMs.sorted()
        count = sorted.count
        p50Ms = Self.percentile(0.50, of: sorted)
        p90Ms = Self.percentile(0.90, of: sorted)
        p99Ms = Self.percentile(0.99, of: sorted)
        maxMs = sorted.last ?? 0
    }

    /// The smallest sample with at least `fraction` of all samples at or below it.
    private static func percentile(_ fraction: Double, of sorted: [Double]) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((fraction * Double(sorted.count)).rounded(.up))
        return sorted[min(sorted.count - 1, max(0, rank - 1))]
    }
}
