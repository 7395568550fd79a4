import Foundation
import Kafka
import SluiceCore
import Testing

/// Provider-aware rate limits, retries, breakers, fallbacks and tenant fairness, counted at the
/// stub provider (its own count of calls, 429s and successes) and in the ledger.
@Suite("Provider limits", .serialized)
struct ProviderLimitTests {
    /// 429s over all calls, and successes per minute between the stub's first and last success.
    private func rates(_ stats: JSONValue) -> (limitedRatio: Double, achievedRPM: Double, total: Int) {
        let total = Int(stats["total"]?.intValue ?? 0)
        let limited = Double(stats["rate_limited"]?.intValue ?? 0)
        let succeeded = Double(stats["succeeded"]?.intValue ?? 0)
        let spanMs = Double((stats["last_success_ms"]?.intValue ?? 0) - (stats["first_success_ms"]?.intValue ?? 0))
        return (limited / Double(max(1, total)), spanMs > 0 ? (succeeded - 1) / spanMs * 60_000 : 0, total)
    }

    /// The partitions of `topic` that hold records of `tenant` (read from the start, to its end).
    static func partitionsHolding(tenant: String, topic: String, _ d: Deployment) async throws -> Set<Int32> {
        let records = try await d.records([topic])
        return Set(records.filter { $0.header(RecordHeader.tenant) == tenant }.map(\.partition))
    }

    private func prompts(_ count: Int, tenant: String = "acme") -> [(tenant: String, text: String)] {
        (0..<count).map { (tenant: tenant, text: EndToEndTests.prompt($0, tenant: tenant)) }
    }

    /// Scaled down from the 2,000 jobs to 800 (80 s at 600 RPM) to keep the suite's
    /// length reasonable; the bounds are the issue's. (At 400, one stall of the stub process
    /// under the full suite on two cores — a few 429s whatever the client does — was already
    /// 1.2% of the calls.)
    @Test(
        "a stub limited to 600 RPM: with no limit configured, under 5% 429s and within 15% of the limit; configured, under 1%",
        .timeLimit(.minutes(8)), arguments: [false, true])
    func learnsTheLimit(configured: Bool) async throws {
        let limits = configured ? "\n    limits: {rpm: 600}" : ""
        let d = try Deployment(name: "rpm-\(configured)", workerConcurrency: 32) { stubPort, _ in
            """
            providers:
              - name: stub
                base_url: http://127.0.0.1:\(stubPort)/v1\(limits)
            routes:
              demo: {provider: stub}
            """
        }
        try await d.applyTopics()
        try await d.startStub(latencyMs: 20, arguments: ["--rpm", "600"])
        try await d.startSluice("serve", role: "serve")
        let accepted = try await d.submitAll(prompts(800))
        let jobs = try await d.awaitTerminal(accepted, timeout: .seconds(360))
        #expect(jobs.values.allSatisfy { $0["status"]?.stringValue == "succeeded" })
        let (limitedRatio, achieved, total) = rates(try await d.stubStats())
        print("600 RPM stub, limit configured: \(configured): \(total) calls, \(limitedRatio * 100)% 429s, \(achieved) RPM achieved")
        #expect(limitedRatio < (configured ? 0.01 : 0.05), "\(limitedRatio * 100)% of calls were 429s")
        #expect(abs(achieved - 600) <= 0.15 * 600, "achieved \(achieved) RPM")
    }

    @Test("two workers sharing one deployment's limit stay under it together", .timeLimit(.minutes(6)))
    func fleetShare() async throws {
        // Jobs are keyed by tenant: several tenants spread them over both workers' partitions.
        let tenants = (0..<12).map { "t\($0)" }
        let d = try Deployment(name: "fleet", tenants: tenants, workerConcurrency: 32)
        try await d.applyTopics()
        try await d.startStub(latencyMs: 20, arguments: ["--rpm", "600"])
        try await d.startSplitRoles(workers: ["worker-a", "worker-b"])
        // Both hold their half of the partitions before work arrives (a lone member's share is all).
        try await waitUntil("both workers hold partitions", timeout: .seconds(60)) {
            ["worker-a", "worker-b"].allSatisfy { name in
                let log = (try? String(contentsOfFile: "\(d.dir)/\(name).log", encoding: .utf8)) ?? ""
                return log.contains("Kafka consumer assigned partitions")
            }
        }
        try await Task.sleep(for: .seconds(3))
        let accepted = try await d.submitAll((0..<400).map { i in
            (tenant: tenants[i % tenants.count], text: EndToEndTests.prompt(i, tenant: tenants[i % tenants.count]))
        })
        let jobs = try await d.awaitTerminal(accepted, timeout: .seconds(240))
        #expect(jobs.values.allSatisfy { $0["status"]?.stringValue == "succeeded" })
        let (limitedRatio, achieved, total) = rates(try await d.stubStats())
        print("two workers on a 600 RPM stub: \(total) calls, \(limitedRatio * 100)% 429s, \(achieved) RPM achieved")
        // Each alone would go at the full 600: together twice the limit, half the calls 429s.
        #expect(limitedRatio < 0.02, "\(limitedRatio * 100)% of calls were 429s")
        let ledger = try LedgerProbe(path: d.databasePath)
        let actors = try ledger.int("SELECT COUNT(DISTINCT actor) FROM audit_events WHERE type = 'job.attempt'")
        #expect(actors == 2, "both workers called the provider")
    }

    @Test("a stub failing 30% with 503: every job succeeds, every attempt is recorded, none called more than max_attempts", .timeLimit(.minutes(5)))
    func flakyProvider() async throws {
        let maxAttempts = 10
        let d = try Deployment(name: "flaky", workerSettings: ["max_attempts: \(maxAttempts)", "retry_base_delay_ms: 50", "retry_max_delay_ms: 2000"])
        try await d.applyTopics()
        try await d.startStub(arguments: ["--error-rate", "0.3", "--error-status", "503"])
        try await d.startSluice("serve", role: "serve")
        let accepted = try await d.submitAll(prompts(300))
        let jobs = try await d.awaitTerminal(accepted, timeout: .seconds(180))
        #expect(jobs.values.allSatisfy { $0["status"]?.stringValue == "succeeded" })
        let calls = try await d.stubCalls()
        #expect(accepted.keys.allSatisfy { (1...maxAttempts).contains(calls.perJob[$0] ?? 0) })
        let retried = accepted.keys.filter { (calls.perJob[$0] ?? 0) > 1 }.count
        #expect(retried > 30, "about 30% of jobs meet a 503 at least once (\(retried))")

        let ledger = try LedgerProbe(path: d.databasePath)
        try await waitUntil("the ledger holds every attempt", timeout: .seconds(30)) {
            try ledger.int("SELECT COUNT(*) FROM audit_events WHERE type = 'job.attempt'") >= calls.total
        }
        let attempts = try ledger.countsByJob("SELECT job_id FROM audit_events WHERE type = 'job.attempt'")
        #expect(accepted.keys.allSatisfy { attempts[$0] == calls.perJob[$0] }, "one job.attempt per provider call")
        let failedAttempts = try ledger.int(
            "SELECT COUNT(*) FROM audit_events WHERE type = 'job.attempt' AND json_extract(detail, '$.status') = 503 AND json_extract(detail, '$.provider') = 'stub'")
        #expect(failedAttempts == calls.total - accepted.count, "each failed call is an attempt with its status and provider")
    }

    @Test("a deployment fully down with a fallback: the breaker opens, traffic moves to the fallback and returns after recovery", .timeLimit(.minutes(5)))
    func breakerAndFallback() async throws {
        let d = try Deployment(
            name: "fallback", workerConcurrency: 8,
            workerSettings: [
                "max_attempts: 10", "retry_base_delay_ms: 50",
                "breaker: {window_seconds: 10, min_requests: 5, failure_ratio: 0.5, cooldown_ms: 1500, half_open_probes: 1}",
            ]
        ) { stubPort, stub2Port in
            """
            providers:
              - name: primary
                base_url: http://127.0.0.1:\(stubPort)/v1
              - name: backup
                base_url: http://127.0.0.1:\(stub2Port)/v1
            routes:
              demo:
                deployments: [{provider: primary, model: main}]
                fallbacks: [spare]
              spare: {provider: backup, model: spare}
            """
        }
        try await d.applyTopics()
        try await d.startStub(latencyMs: 5, arguments: ["--error-rate", "1", "--error-status", "503"])
        try await d.startStub(name: "stub-b", port: d.stub2Port, latencyMs: 5)
        try await d.startSluice("serve", role: "serve")

        let outage = try await d.awaitTerminal(try await d.submitAll(prompts(200)), timeout: .seconds(120))
        #expect(outage.values.allSatisfy { $0["status"]?.stringValue == "succeeded" })
        let primaryDown = Int(try await d.stubStats()["total"]?.intValue ?? 0)
        let backupDuring = Int(try await d.stubStats(port: d.stub2Port)["succeeded"]?.intValue ?? 0)
        print("outage: primary called \(primaryDown) times, backup served \(backupDuring)")
        #expect(backupDuring == 200, "the fallback served every job")
        // Without a breaker every job would try the primary first (200+ calls).
        #expect(primaryDown < 80, "the breaker kept traffic off the dead deployment (\(primaryDown) calls)")

        try await d.setStubFaults(["error_rate": 0])
        try await Task.sleep(for: .seconds(2))  // past the cool-down: the next call is a probe
        let recovered = try await d.awaitTerminal(try await d.submitAll(prompts(100, tenant: "acme")), timeout: .seconds(120))
        #expect(recovered.values.allSatisfy { $0["status"]?.stringValue == "succeeded" })
        let primaryServed = Int(try await d.stubStats()["succeeded"]?.intValue ?? 0)
        let backupAfter = Int(try await d.stubStats(port: d.stub2Port)["succeeded"]?.intValue ?? 0)
        print("after recovery: primary served \(primaryServed), backup \(backupAfter - backupDuring)")
        // Only the calls that start while the first probe is out go to the fallback.
        #expect(primaryServed >= 85, "traffic returned to the primary")
        #expect(backupAfter - backupDuring <= 15)
    }

    @Test(
        "tenant A queues 5,000 bulk jobs, then tenant B 20: B's finish before half of A's", .timeLimit(.minutes(8)),
        arguments: [1, 4])
    func tenantFairness(subKeys: Int) async throws {
        // A deep local queue (every job read at once) and a slow provider: B's jobs wait behind
        // A's in the worker, where only turn-taking across tenants gets them out early. With 4
        // sub-keys A's jobs come from several partitions, and A still takes one turn, not four.
        let d = try Deployment(
            name: "fairness-\(subKeys)", tenants: ["tenant-a", "tenant-b"], workerConcurrency: 4,
            workerSettings: ["max_in_flight: 6000"], tenantSettings: ["tenant-a": ["sub_keys: \(subKeys)"]])
        try await d.applyTopics()
        try await d.startStub(latencyMs: 100)
        try await d.startSluice("serve", role: "serve")
        _ = try await d.submitAll(prompts(5_000, tenant: "tenant-a"), concurrency: 64, priority: "p2")
        let b = try await d.submitAll(prompts(20, tenant: "tenant-b"), priority: "p2")
        _ = try await d.awaitTerminal(b, timeout: .seconds(300))
        let ledger = try LedgerProbe(path: d.databasePath)
        try await waitUntil("the ledger holds B's results", timeout: .seconds(60)) {
            try ledger.int("SELECT COUNT(*) FROM results WHERE tenant = 'tenant-b'") == 20
        }
        let aDone = try ledger.int("SELECT COUNT(*) FROM results WHERE tenant = 'tenant-a'")
        print("tenant B's 20 jobs done when tenant A (\(subKeys) sub-keys) had \(aDone) of 5000")
        #expect(aDone < 2_500, "A had \(aDone) of 5000 done")
        if subKeys > 1 {
            // A's load really was spread: its jobs sit on more than one partition of p2.
            let partitions = try await Self.partitionsHolding(tenant: "tenant-a", topic: TopicCatalog(prefix: d.prefix).jobs(.p2), d)
            #expect(partitions.count > 1, "tenant A's jobs on partitions \(partitions)")
        }
    }
}
