@testable import Ingress
import Testing

/// The wake-up of synchronous completions: a result that passes before, during or never.
@Suite("Sync result waiters")
struct SyncResultWaitersTests {
    @Test("a result that passed before the wait began is not missed")
    func arrivedEarly() async {
        let waiters = SyncResultWaiters()
        waiters.expect("job-1")
        waiters.resultArrived(jobID: "job-1")
        #expect(await waiters.wait(for: "job-1", timeout: .seconds(30)))
        waiters.forget("job-1")
        #expect(waiters.count == 0)
    }

    @Test("a waiting request is woken by its own result, not by another job's")
    func wokenByItsResult() async {
        let waiters = SyncResultWaiters()
        waiters.expect("job-1")
        waiters.expect("job-2")
        async let woken = waiters.wait(for: "job-1", timeout: .seconds(60))
        // Another job's result and one nobody awaits change nothing.
        waiters.resultArrived(jobID: "job-3")
        while waiters.isWaiting("job-1") == false { await Task.yield() }
        waiters.resultArrived(jobID: "job-2")
        #expect(waiters.isWaiting("job-1"))
        waiters.resultArrived(jobID: "job-1")
        #expect(await woken)
    }

    @Test("without a result the wait ends at its timeout; an unregistered job does not wait at all")
    func timesOut() async {
        let waiters = SyncResultWaiters()
        waiters.expect("job-1")
        #expect(await !waiters.wait(for: "job-1", timeout: .milliseconds(50)))
        #expect(await !waiters.wait(for: "unknown", timeout: .seconds(60)))
    }
}
