import Foundation
import SluiceCore
import SluiceHTTP
import Testing

/// `sluice jobs requeue --unfinished` after the dev broker restarted empty.
@Suite("Requeue from the ledger", .serialized)
struct RequeueEndToEndTests {
    @Test("the stack restarts on an empty broker with jobs queued; requeue brings every accepted job to one result, each run once", .timeLimit(.minutes(5)))
    func requeueAfterBrokerRestart() async throws {
        let port = Harness.freePort()
        // A broker of this test's own, so that stopping it disturbs no other test.
        let ownBroker = try OwnBroker(port: port, logs: try Harness.tempDirectory("requeue-broker"))
        @Sendable func startBroker() async throws -> SluiceProcess { try await ownBroker.start() }
        var broker = try await startBroker()
        defer { broker.kill() }

        // No worker yet: the jobs stay queued on the broker.
        let d = try Deployment(name: "requeue", bootstrap: "127.0.0.1:\(port)", tenants: ["acme", "globex"])
        try await d.applyTopics()
        try await d.startStub()
        try await d.startSplitRoles(workers: [])
        let accepted = try await d.submitAll(
            (0..<30).map { (tenant: $0 % 3 == 0 ? "globex" : "acme", text: "Requeue job \($0). Say something.") })
        #expect(accepted.count == 30)
        let ledger = try LedgerProbe(path: d.databasePath)
        try await waitUntil("the ledger kept every request", timeout: .seconds(60)) {
            try ledger.int("SELECT COUNT(*) FROM job_requests") == 30
                && ledger.int("SELECT COUNT(*) FROM jobs WHERE accepted = 1") == 30
        }

        // As `make run` does it: everything stops, the dev broker with it, and starts again.
        // The dev broker keeps nothing across its restart: the queued jobs are gone with it.
        for name in ["ingress", "ledger"] { await d.processes[name]?.terminate() }
        broker.kill()
        _ = await broker.exitStatus()
        broker = try await startBroker()
        try await d.applyTopics()
        try await d.startSplitRoles(workers: [])

        let dryRun = try await Self.cli(d, ["jobs", "requeue", "--unfinished", "--dry-run", "--tenant", "globex"])
        #expect(dryRun.status == 0, "\(dryRun.output)")
        #expect(dryRun.output.contains("unfinished jobs: 10 (requeueable: 10, without a stored request: 0)"), "\(dryRun.output)")
        #expect(try ledger.int("SELECT COUNT(*) FROM job_requests") == 30, "a dry run changes nothing")

        let bad = try await Self.cli(d, ["jobs", "requeue", "--unfinished", "--since", "yesterday"])
        #expect(bad.status != 0)
        #expect(bad.output.contains("--since"), "\(bad.output)")

        let requeue = try await Self.cli(d, ["jobs", "requeue", "--unfinished"])
        #expect(requeue.status == 0, "\(requeue.output)")
        #expect(requeue.output.contains("still on the broker: 0"), "\(requeue.output)")
        #expect(requeue.output.contains("30 requeued, 0 failed"), "\(requeue.output)")

        // Run again before any worker took them: every job is on the broker now, so nothing is
        // queued a second time (a second copy would be a second provider call).
        let twice = try await Self.cli(d, ["jobs", "requeue", "--unfinished"])
        #expect(twice.status == 0, "\(twice.output)")
        #expect(twice.output.contains("still on the broker: 30"), "\(twice.output)")
        let requeuedLines = twice.output.split(separator: "\n").filter { $0.hasPrefix("requeued ") }
        #expect(requeuedLines.isEmpty, "queued again although still on the broker: \(requeuedLines)")
        #expect(twice.output.split(separator: "\n").filter { $0.hasPrefix("still on the broker, left alone: ") }.count == 30)

        try await d.startSluice("worker", role: "worker")
        // Through the ledger rather than `awaitTerminal`, which polls as the first tenant only.
        try await waitUntil("the ledger has every result", timeout: .seconds(120)) {
            try ledger.int("SELECT COUNT(*) FROM results") == 30
        }
        #expect(try ledger.int("SELECT COUNT(*) FROM jobs WHERE status = 'succeeded'") == 30)
        let acmeJob = try #require(try ledger.string("SELECT id FROM jobs WHERE tenant = 'acme' LIMIT 1"))
        #expect(try await d.job(acmeJob).json?["status"]?.stringValue == "succeeded")
        let results = try ledger.countsByJob("SELECT job_id FROM results")
        #expect(Set(results.keys) == Set(accepted.keys))
        let calls = try await d.stubCalls()
        #expect(calls.total == 30, "each job ran once: \(calls.perJob.filter { $0.value != 1 })")
        // A job's request is kept only until its result is stored.
        #expect(try ledger.int("SELECT COUNT(*) FROM job_requests") == 0)

        let again = try await Self.cli(d, ["jobs", "requeue", "--unfinished"])
        #expect(again.output.contains("unfinished jobs: 0"), "\(again.output)")
    }

    /// Runs a `sluice` command to its end with the deployment's config; its output.
    static func cli(_ d: Deployment, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        let log = "\(d.dir)/cli-\(UUID().uuidString.prefix(6)).log"
        let process = try SluiceProcess(
            name: "cli", arguments: arguments + ["--config", d.configPath], logPath: log,
            environment: ["SLUICE_KAFKA_BOOTSTRAP_SERVERS": d.bootstrap])
        let status = await process.exitStatus()
        return (status, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }
}
