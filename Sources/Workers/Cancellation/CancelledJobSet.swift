/// The ids of cancelled jobs that a worker process remembers, bounded in count and age.
///
/// Every cancellation ever made sits in the compacted control topic; a worker keeps only those
/// that can still matter. A job cannot wait in a jobs or retry topic longer than those topics'
/// retention (7 days in topics/*.yaml), so an older cancellation names a job that is gone
/// (``maxAgeMs``); and a flood of cancellations must not grow memory without bound
/// (``maxJobs``, about 100 bytes per entry). Eviction goes in the order entries were read,
/// which is the order the cancellations were made up to clock skew between ingress
/// processes, so "oldest first" is approximate by at most that skew.
///
/// A value type, so that its rules are tested without locks or clocks.
struct CancelledJobSet {
    let maxJobs: Int
    let maxAgeMs: Int64
    /// Job id → when the cancellation was requested (Unix ms).
    private(set) var requestedAtMs: [String: Int64] = [:]
    /// Ids in the order they were added; `head` marks the oldest live one.
    private var order: [String] = []
    private var head = 0

    /// - Parameters: both bounds are clamped to at least 1.
    init(maxJobs: Int, maxAgeMs: Int64) {
        self.maxJobs = max(1, maxJobs)
        self.maxAgeMs = max(1, maxAgeMs)
    }

    var count: Int { requestedAtMs.count }

    func contains(_ jobID: String) -> Bool { requestedAtMs[jobID] != nil }

    /// Adds a cancellation (a second one for the same job changes nothing) and evicts what is
    /// over the bounds. A cancellation already older than ``maxAgeMs`` is not added.
    ///
    /// - Parameter requestedAtMs: from a Kafka record: clamped to `nowMs` when in the future.
    mutating func insert(_ jobID: String, requestedAtMs at: Int64, nowMs: Int64) {
        let at = min(at, nowMs)
        guard !isExpired(at, nowMs: nowMs) else { return }
        if requestedAtMs[jobID] == nil {
            requestedAtMs[jobID] = at
            order.append(jobID)
        }
        evict(nowMs: nowMs)
    }

    /// Drops entries past ``maxAgeMs`` (from the oldest on) and beyond ``maxJobs``.
    mutating func evict(nowMs: Int64) {
        while head < order.count {
            let id = order[head]
            guard let at = requestedAtMs[id] else {
                head += 1
                continue
            }
            guard requestedAtMs.count > maxJobs || isExpired(at, nowMs: nowMs) else { break }
            requestedAtMs[id] = nil
            head += 1
        }
        // Reclaim the consumed prefix once it is the larger part of the array.
        if head > 1_024, head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }

    private func isExpired(_ at: Int64, nowMs: Int64) -> Bool {
        let (age, overflow) = nowMs.subtractingReportingOverflow(at)
        return overflow ? nowMs > at : age > maxAgeMs
    }
}
