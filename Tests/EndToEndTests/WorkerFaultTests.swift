import Foundation
import SluiceCore
import Testing

/// Worker behaviour under retries, rebalances and shutdown, counted at the stub provider (calls
/// per job id) and in the ledger (results per job id).
@Suite("Worker faults", .serialized)
struct WorkerFaultTests {
    @Test("a long Retry-After goes through the retry topic: the job runs again when due, exactly twice", .timeLimit(.minutes(3)))
    func longRetryGoesThroughRetryTopic() async throws {
        let d = try Deployment(name: "retry-topic", workerSettings: ["local_retry_max_ms: 1000"])
        try await d.applyTopics()
        // Every job's first call is turned away with Retry-After: 3 (longer than the local wait).
        try await d.startStub(arguments: ["--fail-first-calls", "1", "--retry-after", "3"])
        try await d.startSluice("serve", role: "serve")

        let accepted = try await d.submitAll((0..<20).map { (tenant: "acme", text: EndToEndTests.prompt($0, tenant: "acme")) })
        let jobs = try await d.awaitTerminal(accepted, timeout: .seconds(120))
        for id in accepted.keys {
            #expect(jobs[id]?["status"]?.stringValue == "succeeded")
            #expect(jobs[id]?["attempts"]?.intValue == 2)
        }
        let calls = try await d.stubCalls()
        #expect(accepted.keys.allSatisfy { calls.perJob[$0] == 2 }, "each job is called once, turned away, and called once more")

        let ledger = try LedgerProbe(path: d.databasePath)
        let retrying = try ledger.countsByJob("SELECT job_id FROM audit_events WHERE type = 'job.retrying'")
        #expect(Set(retrying.keys) == Set(accepted.keys) && retrying.values.allSatisfy { $0 == 1 })
        let results = try ledger.countsByJob("SELECT job_id FROM results")
        #expect(Set(results.keys) == Set(accepted.keys) && results.values.allSatisfy { $0 == 1 })
    }

    @Test("workers come and go during a run: nothing lost or doubled, and queued jobs are not called twice", .timeLimit(.minutes(6)))
    func rebalancesDoNotRerunQueuedJobs() async throws {
        let tenants = (0..<12).map { "t\($0)" }
        // Few callers and a deep local queue: without dropping revoked jobs from the queue, every
        // rebalance would call dozens of queued jobs twice.
        let concurrency = 4
        let d = try Deployment(
            name: "rebalance", tenants: tenants, workerConcurrency: concurrency,
            workerSettings: ["shutdown_grace_ms: 5000"])
        try await d.applyTopics()
        try await d.startStub(latencyMs: 40)
        try await d.startSplitRoles(workers: ["worker-a"])

        let total = 900
        let prompts = (0..<total).map { i in (tenant: tenants[i % tenants.count], text: EndToEndTests.prompt(i, tenant: tenants[i % tenants.count])) }
        let accepted = try await d.submitAll(prompts, concurrency: 32)
        #expect(accepted.count == total)
        let ledger = try LedgerProbe(path: d.databasePath)

        // Membership changes while jobs are queued: B joins, C joins, B leaves (SIGTERM), C is
        // killed, D joins. Each join or leave revokes partitions from the others.
        var rebalances = 0
        for (step, action) in ["+worker-b", "+worker-c", "-worker-b", "!worker-c", "+worker-d"].enumerated() {
            let doneBefore = try ledger.int("SELECT COUNT(*) FROM results")
            try await waitUntil("progress before step \(step)", timeout: .seconds(60)) {
                try ledger.int("SELECT COUNT(*) FROM results") >= doneBefore + 40
            }
            let name = String(action.dropFirst())
            switch action.first {
            case "+": try await d.startSluice(name, role: "worker")
            case "-": _ = await d.processes[name]?.terminate()
            default: d.processes[name]?.kill()
            }
            rebalances += 1
        }
        #expect(try ledger.int("SELECT COUNT(*) FROM results") < total, "the membership changes must happen mid-run")

        let jobs = try await d.awaitTerminal(accepted, timeout: .seconds(240))
        #expect(jobs.values.allSatisfy { $0["status"]?.stringValue == "succeeded" })
        let results = try ledger.countsByJob("SELECT job_id FROM results")
        #expect(Set(results.keys) == Set(accepted.keys))
        #expect(results.values.allSatisfy { $0 == 1 })

        // Only a call already running when its partition moved (or its worker was killed) may
        // be repeated: at most `concurrency` per member per rebalance (at most 3 members).
        let calls = try await d.stubCalls()
        let repeated = accepted.keys.reduce(0) { $0 + max(0, (calls.perJob[$1] ?? 0) - 1) }
        print("rebalance run: \(total) jobs, \(calls.total) provider calls, \(repeated) repeated, \(rebalances) membership changes")
        #expect(accepted.keys.allSatisfy { (calls.perJob[$0] ?? 0) >= 1 })
        #expect(repeated <= concurrency * 3 * rebalances, "\(repeated) repeated calls")
    }

    @Test("SIGTERM: queued jobs do not start, running calls finish within the grace, the rest runs elsewhere once", .timeLimit(.minutes(4)))
    func gracefulShutdownStartsNothingNew() async throws {
        let concurrency = 4
        let d = try Deployment(name: "shutdown", workerConcurrency: concurrency, workerSettings: ["shutdown_grace_ms: 5000"])
        try await d.applyTopics()
        try await d.startStub(latencyMs: 300)
        try await d.startSplitRoles(workers: ["worker-a"])
        let accepted = try await d.submitAll((0..<200).map { (tenant: "acme", text: EndToEndTests.prompt($0, tenant: "acme")) })
        let ledger = try LedgerProbe(path: d.databasePath)
        try await waitUntil("worker A finished some jobs", timeout: .seconds(60)) {
            try ledger.int("SELECT COUNT(*) FROM results") >= 12
        }
        let callsBefore = try await d.stubCalls().total
        let status = await d.processes["worker-a"]?.terminate()
        #expect(status == 0, "a graceful stop exits 0")
        // Once SIGTERM arrived no queued job started: only the callers' next calls in the moment
        // between counting and signalling could still reach the provider (the old behaviour
        // worked through the whole local queue, ~180 calls here).
        let callsAfter = try await d.stubCalls().total
        #expect(callsAfter - callsBefore <= 2 * concurrency, "\(callsAfter - callsBefore) calls after SIGTERM")

        try await d.startSluice("worker-b", role: "worker")
        let jobs = try await d.awaitTerminal(accepted, timeout: .seconds(150))
        #expect(jobs.values.allSatisfy { $0["status"]?.stringValue == "succeeded" })
        let calls = try await d.stubCalls()
        #expect(accepted.keys.allSatisfy { calls.perJob[$0] == 1 }, "a graceful stop repeats no call")
        let results = try ledger.countsByJob("SELECT job_id FROM results")
        #expect(Set(results.keys) == Set(accepted.keys) && results.values.allSatisfy { $0 == 1 })
    }
}
