import Foundation
import SluiceCore
import SluiceHTTP
import Testing
import Workers

/// Faults at random moments under a steady load, against real processes and a real broker;
/// afterwards every job that got a 202 must have exactly one result and have succeeded.
///
/// `scripts/chaos SECONDS` runs it (it sets `SLUICE_CHAOS_SECONDS` and `SLUICE_CHAOS_REPORT`).
/// The run prints its numbers, and writes them as a Markdown table to the report file when one
/// is named.
///
/// `make test` runs a 45 s round with a random seed (printed; `SLUICE_CHAOS_SEED` repeats it).
/// One such round once left 2 of 3,285 jobs unstarted: the dev broker had answered a fetch with
/// a batch stored after two earlier ones it had not stored yet, and the consumer's position
/// moved past them. `PartitionTracker.checkSkip` now reads such a partition again.
@Suite("Chaos", .serialized)
struct ChaosTests {
    /// One kind of fault and how to inflict (and, for provider faults, end) it.
    enum Fault: String, CaseIterable, Sendable {
        case killWorker = "SIGKILL a worker, restart it"
        case killLedger = "SIGKILL the ledger, restart it"
        case killIngress = "SIGKILL the ingress, restart it"
        case killServe = "SIGKILL serve, restart it"
        case termWorker = "SIGTERM a worker, restart it"
        case addWorker = "add a worker"
        case removeWorker = "remove a worker (SIGTERM)"
        case burst503 = "stub: 503 burst (50 %, 3 s)"
        case burst429 = "stub: 429 burst (50 %, Retry-After 1 s, 3 s)"
        case hang = "stub: hangs (20 %, 3 s)"
    }

    struct PhaseStats {
        var jobs = 0
        var calls = 0
        var repeatedCalls = 0
        var jobsWithRepeats = 0
        var maxCalls = 0
    }

    @Test("random kills, restarts, rebalances and provider faults under load lose and double nothing", .timeLimit(.minutes(20)))
    func chaos() async throws {
        let environment = ProcessInfo.processInfo.environment
        let seconds = Int(environment["SLUICE_CHAOS_SECONDS"] ?? "") ?? 45
        let seed = UInt64(environment["SLUICE_CHAOS_SEED"] ?? "") ?? UInt64.random(in: 1...999_999)
        print("chaos: \(seconds) s of faults, seed \(seed) (SLUICE_CHAOS_SEED=\(seed) repeats the schedule)")
        var random = SeededRandom(seed: seed)

        let tenants = ["acme", "globex", "initech", "umbrella"]
        let d = try Deployment(
            name: "chaos", tenants: tenants, workerConcurrency: 16,
            workerSettings: ["shutdown_grace_ms: 3000", "request_timeout_ms: 2000", "max_attempts: 8", "local_retry_max_ms: 1500"])
        let servePort = Harness.freePort()
        try await d.applyTopics()
        try await d.startStub(latencyMs: 20, arguments: ["--latency-jitter-ms", "30"])
        try await d.startSplitRoles(workers: ["worker-1", "worker-2"])
        try await startServe(d, port: servePort)

        // Load: steady submissions to both front doors (ingress and serve); only a 202 counts.
        let load = LoadGenerator(deployment: d, ports: [d.apiPort, servePort], tenants: tenants)
        let loadTask = Task { await load.run() }

        var schedule: [(at: Duration, fault: Fault)] = []
        var phaseStarts: [(start: Int64, fault: Fault)] = []
        var extraWorkers: [String] = []
        var nextWorker = 3
        let started = ContinuousClock.now
        while ContinuousClock.now - started < .seconds(seconds) {
            // Faults further apart than a recovery takes (a SIGKILLed member is noticed after the
            // 6 s session timeout), so that each fault's repeats show up under its own name.
            try await Task.sleep(for: .milliseconds(Int.random(in: 8_000...14_000, using: &random)))
            let fault = Fault.allCases.randomElement(using: &random)!
            schedule.append((ContinuousClock.now - started, fault))
            phaseStarts.append((WallClock.system.nowMs(), fault))
            print("chaos: \(ContinuousClock.now - started): \(fault.rawValue)")
            switch fault {
            case .killWorker, .termWorker:
                let name = ["worker-1", "worker-2"].randomElement(using: &random)!
                if fault == .killWorker { d.processes[name]?.kill() } else { _ = await d.processes[name]?.terminate() }
                _ = await d.processes[name]?.exitStatus()
                try await d.startSluice(name, role: "worker")
            case .killLedger:
                d.processes["ledger"]?.kill()
                _ = await d.processes["ledger"]?.exitStatus()
                try await d.startSluice("ledger", role: "ledger")
            case .killIngress:
                d.processes["ingress"]?.kill()
                _ = await d.processes["ingress"]?.exitStatus()
                try await d.startSluice("ingress", role: "ingress")
            case .killServe:
                d.processes["serve"]?.kill()
                _ = await d.processes["serve"]?.exitStatus()
                try await startServe(d, port: servePort)
            case .addWorker:
                let name = "worker-\(nextWorker)"
                nextWorker += 1
                extraWorkers.append(name)
                try await d.startSluice(name, role: "worker")
            case .removeWorker:
                if let name = extraWorkers.popLast() { _ = await d.processes[name]?.terminate() }
            case .burst503, .burst429, .hang:
                let faults: JSONValue =
                    switch fault {
                    case .burst503: ["error_rate": .double(0.5), "error_status": 503]
                    case .burst429: ["rate_limit_rate": .double(0.5), "retry_after_seconds": 1]
                    default: ["hang_rate": .double(0.2)]
                    }
                try await d.setStubFaults(faults)
                try await Task.sleep(for: .seconds(3))
                try await d.setStubFaults(["error_rate": 0, "rate_limit_rate": 0, "hang_rate": 0])
            }
        }
        await load.stop()
        _ = await loadTask.value
        let accepted = await load.accepted
        print("chaos: load stopped; \(accepted.count) jobs accepted, \(await load.refused) submissions refused (503 or connection)")
        #expect(accepted.count > 0)

        // Everything must finish with the processes that are left running.
        let jobs = try await d.awaitTerminal(accepted.mapValues { $0.text }, timeout: .seconds(300))
        let ledger = try LedgerProbe(path: d.databasePath)
        let results = try ledger.countsByJob("SELECT job_id FROM results")
        let jobRows = try ledger.countsByJob("SELECT id AS job_id FROM jobs")
        let lost = accepted.keys.filter { results[$0] == nil }.count
        let duplicateResults = results.values.filter { $0 > 1 }.count
        let failed = accepted.keys.filter { jobs[$0]?["status"]?.stringValue != "succeeded" }
        #expect(lost == 0, "\(lost) accepted jobs have no result")
        #expect(duplicateResults == 0)
        #expect(Set(jobRows.keys).isSuperset(of: accepted.keys))
        #expect(failed.isEmpty, "not succeeded: \(failed.prefix(5).map { "\($0): \(jobs[$0]?["error"] ?? .null)" })")

        // Provider calls per job beyond its recorded attempts were repeats (a call whose
        // worker died or lost the partition before its result was on Kafka).
        let calls = try await d.stubCalls()
        var byFault: [Fault: PhaseStats] = [:]
        var all = PhaseStats()
        for (id, job) in accepted {
            let jobAttempts = Int(jobs[id]?["attempts"]?.intValue ?? 1)
            let n = calls.perJob[id] ?? 0
            let repeats = max(0, n - jobAttempts)
            // A repeat happens when a job runs again after a fault, so it is charged to the last
            // fault before the job finished.
            let finishedAtMs = jobs[id]?["completed_at_ms"]?.intValue ?? job.acceptedAtMs
            let phase = phaseStarts.last { $0.start <= finishedAtMs }?.fault
            for key in [phase].compactMap({ $0 }) {
                byFault[key, default: PhaseStats()].add(calls: n, repeats: repeats)
            }
            all.add(calls: n, repeats: repeats)
        }
        let report = Self.report(
            seconds: seconds, seed: seed, accepted: accepted.count, refused: await load.refused, lost: lost,
            duplicateResults: duplicateResults, all: all, byFault: byFault, faults: schedule.count)
        print(report)
        if let path = environment["SLUICE_CHAOS_REPORT"], !path.isEmpty {
            try report.write(toFile: path, atomically: true, encoding: .utf8)
        }
    }

    private func startServe(_ d: Deployment, port: Int) async throws {
        try d.start("serve", ["serve", "--config", d.configPath], environment: ["SLUICE_INGRESS_PORT": "\(port)"])
        try await waitUntil("serve answers /healthz", timeout: .seconds(60)) {
            (try? await d.http.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/healthz", timeoutMs: 1000)))?.status == 200
        }
    }

    static func report(
        seconds: Int, seed: UInt64, accepted: Int, refused: Int, lost: Int, duplicateResults: Int, all: PhaseStats,
        byFault: [Fault: PhaseStats], faults: Int
    ) -> String {
        func mean(_ s: PhaseStats) -> String { s.jobs == 0 ? "–" : String(format: "%.3f", Double(s.calls) / Double(s.jobs)) }
        func rate(_ s: PhaseStats) -> String { s.jobs == 0 ? "–" : String(format: "%.2f %%", 100 * Double(s.jobsWithRepeats) / Double(s.jobs)) }
        var lines = [
            "chaos run: \(seconds) s, seed \(seed), \(faults) faults",
            "",
            "| jobs accepted | submissions refused | lost | duplicate results | calls/job mean | calls/job max | jobs with a repeated call |",
            "|---|---|---|---|---|---|---|",
            "| \(accepted) | \(refused) | \(lost) | \(duplicateResults) | \(mean(all)) | \(all.maxCalls) | \(all.jobsWithRepeats) (\(rate(all))) |",
            "",
            "| last fault before the job finished | jobs | calls/job mean | max | repeated calls | jobs with a repeated call |",
            "|---|---|---|---|---|---|",
        ]
        for fault in Fault.allCases {
            guard let s = byFault[fault] else { continue }
            lines.append("| \(fault.rawValue) | \(s.jobs) | \(mean(s)) | \(s.maxCalls) | \(s.repeatedCalls) | \(rate(s)) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension ChaosTests.PhaseStats {
    mutating func add(calls n: Int, repeats: Int) {
        jobs += 1
        calls += n
        repeatedCalls += repeats
        if repeats > 0 { jobsWithRepeats += 1 }
        maxCalls = max(maxCalls, n)
    }
}

/// Submits jobs at a steady pace to whichever front door answers.
actor LoadGenerator {
    struct Accepted: Sendable {
        var text: String
        var acceptedAtMs: Int64
    }

    let deployment: Deployment
    let ports: [Int]
    let tenants: [String]
    private(set) var accepted: [String: Accepted] = [:]
    private(set) var refused = 0
    private var stopped = false

    init(deployment: Deployment, ports: [Int], tenants: [String]) {
        self.deployment = deployment
        self.ports = ports
        self.tenants = tenants
    }

    func stop() { stopped = true }

    func run() async {
        await withTaskGroup(of: Void.self) { group in
            for lane in 0..<8 {
                group.addTask { await self.lane(lane) }
            }
        }
    }

    private func lane(_ lane: Int) async {
        var i = 0
        while !stopped {
            i += 1
            let tenant = tenants[(lane + i) % tenants.count]
            let text = "[\(tenant)] Chaos job \(lane)-\(i) wants a summary. Nothing else matters here."
            let port = ports[(lane + i) % ports.count]
            let body = JSONValue.object(["model": "demo", "messages": [["role": "user", "content": .string(text)]]]).serialized()
            let request = HTTPClientRequest(
                method: "POST", url: "http://127.0.0.1:\(port)/v1/jobs",
                headers: [HTTPHeader("Authorization", "Bearer \(Deployment.key(for: tenant))"), HTTPHeader("Content-Type", "application/json")],
                body: body, timeoutMs: 10_000)
            if let response = try? await deployment.http.execute(request), response.status == 202,
                let id = (try? JSONValue.parse(response.body))?["id"]?.stringValue
            {
                accepted[id] = Accepted(text: text, acceptedAtMs: WallClock.system.nowMs())
            } else {
                refused += 1
            }
            try? await Task.sleep(for: .milliseconds(80))
        }
    }
}

/// A small deterministic generator (SplitMix64), so that a seed repeats a fault schedule.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
