import SluiceCore
import Testing

@testable import Workers

@Suite("Bounded set of cancelled jobs")
struct CancelledJobSetTests {
    static let day: Int64 = 86_400_000

    @Test("remembers cancellations; a second one of the same job changes nothing")
    func remembers() {
        var set = CancelledJobSet(maxJobs: 10, maxAgeMs: Self.day)
        set.insert("a", requestedAtMs: 1_000, nowMs: 2_000)
        set.insert("a", requestedAtMs: 1_500, nowMs: 2_000)
        #expect(set.contains("a"))
        #expect(!set.contains("b"))
        #expect(set.count == 1)
        #expect(set.requestedAtMs["a"] == 1_000)
    }

    @Test("past the count bound the oldest entries go, in the order they were read")
    func countBound() {
        var set = CancelledJobSet(maxJobs: 3, maxAgeMs: Self.day)
        for (index, id) in ["a", "b", "c", "d", "e"].enumerated() {
            set.insert(id, requestedAtMs: Int64(index), nowMs: 10)
        }
        #expect(set.count == 3)
        #expect(!set.contains("a") && !set.contains("b"))
        #expect(set.contains("c") && set.contains("d") && set.contains("e"))
    }

    @Test("entries older than the age bound are evicted, and an already old cancellation is not added")
    func ageBound() {
        var set = CancelledJobSet(maxJobs: 100, maxAgeMs: 1_000)
        set.insert("old", requestedAtMs: 0, nowMs: 500)
        set.insert("young", requestedAtMs: 900, nowMs: 1_000)
        set.evict(nowMs: 1_500)
        #expect(!set.contains("old"))
        #expect(set.contains("young"))
        set.insert("stale", requestedAtMs: 0, nowMs: 5_000)
        #expect(!set.contains("stale"))
    }

    @Test("a timestamp from the future counts as now; extreme timestamps do not trap")
    func untrustedTimestamps() {
        var set = CancelledJobSet(maxJobs: 100, maxAgeMs: 1_000)
        set.insert("future", requestedAtMs: .max, nowMs: 2_000)
        #expect(set.requestedAtMs["future"] == 2_000)
        set.insert("ancient", requestedAtMs: .min, nowMs: .max)
        #expect(!set.contains("ancient"))
        set.evict(nowMs: .max)
        #expect(set.count == 0)
    }

    @Test("memory stays bounded over a long stream of cancellations")
    func longStream() {
        var set = CancelledJobSet(maxJobs: 500, maxAgeMs: Self.day)
        for i in 0..<50_000 { set.insert("job-\(i)", requestedAtMs: Int64(i), nowMs: Int64(i)) }
        #expect(set.count == 500)
        #expect(set.contains("job-49999"))
        #expect(!set.contains("job-49499"))
        #expect(set.contains("job-49500"))
    }

    @Test("readiness: waiting gives up after the catch-up timeout, and is immediate once marked ready")
    func readiness() async {
        let jobs = CancelledJobs(configuration: .init(maxJobs: 10, maxAgeMs: 60_000, catchUpTimeoutMs: 100))
        #expect(!jobs.isReady)
        #expect(await jobs.waitUntilReady() == false)
        #expect(jobs.isReady)  // gave up: later waits return at once
        let ready = CancelledJobs(configuration: .init(maxJobs: 10, maxAgeMs: 60_000, catchUpTimeoutMs: 60_000))
        ready.markReady()
        #expect(await ready.waitUntilReady())
    }
}
