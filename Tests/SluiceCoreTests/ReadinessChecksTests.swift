import SluiceCore
import Synchronization
import Testing

@Suite("Readiness checks")
struct ReadinessChecksTests {
    final class Calls: Sendable {
        let count = Atomic<Int>(0)
    }

    @Test("a burst of probes runs each check once within its cache time, and reports each check by name")
    func burstSharesOneRun() async {
        let calls = Calls()
        let checks = ReadinessChecks(cacheTTL: .seconds(3_600))
        checks.add(ReadinessCheck(name: "broker") {
            calls.count.add(1, ordering: .relaxed)
            try? await Task.sleep(for: .milliseconds(50))
            return "down"
        })
        checks.add(ReadinessCheck(name: "ledger") { nil })
        let results = await withTaskGroup(of: [ReadinessOutcome].self) { group in
            for _ in 0..<50 { group.addTask { await checks.evaluate() } }
            var all: [[ReadinessOutcome]] = []
            for await outcome in group { all.append(outcome) }
            return all
        }
        #expect(calls.count.load(ordering: .relaxed) == 1)
        #expect(results.count == 50)
        for outcomes in results {
            #expect(outcomes == [
                ReadinessOutcome(name: "broker", failure: "down"), ReadinessOutcome(name: "ledger", failure: nil),
            ])
        }
    }

    @Test("with no cache time every evaluation probes again")
    func expiredAnswersAreNotReused() async {
        let calls = Calls()
        let checks = ReadinessChecks(cacheTTL: .zero)
        checks.add(ReadinessCheck(name: "broker") {
            calls.count.add(1, ordering: .relaxed)
            return nil
        })
        for _ in 0..<3 { _ = await checks.evaluate() }
        #expect(calls.count.load(ordering: .relaxed) == 3)
    }
}
