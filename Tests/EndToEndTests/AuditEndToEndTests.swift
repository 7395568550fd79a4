import Foundation
import GRDB
import SluiceCore
import SluiceHTTP
import Testing

/// The audit log over real processes: jobs through `sluice serve`, then the auditor's HTTP
/// routes and CLI (`sluice audit verify | export | verify-proof`), and a ledger SIGKILLed while
/// events stream in (issue 9, tests 1–3 and 6).
@Suite("Audit end to end", .serialized)
struct AuditEndToEndTests {
    static func auditorKey(_ tenant: String) -> String { "sk-sluice-test-\(tenant)-auditor" }

    /// A deployment whose tenants also have an auditor key, checkpointing every second.
    static func deployment(_ name: String, tenants: [String] = ["acme", "globex"]) throws -> Deployment {
        let d = try Deployment(name: name, tenants: tenants)
        var yaml = try String(contentsOfFile: d.configPath, encoding: .utf8)
        for tenant in tenants {
            yaml = yaml.replacingOccurrences(
                of: "      - key: \(Deployment.key(for: tenant))\n",
                with: "      - key: \(Deployment.key(for: tenant))\n      - key: \(auditorKey(tenant))\n        role: auditor\n")
        }
        yaml = yaml.replacingOccurrences(of: "  path: \(d.databasePath)\n", with: "  path: \(d.databasePath)\n  checkpoint_interval_seconds: 1\n")
        try yaml.write(toFile: d.configPath, atomically: true, encoding: .utf8)
        return d
    }

    static func get(_ d: Deployment, _ path: String, key: String) async throws -> (status: Int, json: JSONValue?, body: [UInt8]) {
        let response = try await d.http.execute(HTTPClientRequest(
            url: d.baseURL + path, headers: [HTTPHeader("Authorization", "Bearer \(key)")], timeoutMs: 30_000))
        return (response.status, try? JSONValue.parse(response.body), response.body)
    }

    /// Runs `sluice <arguments>` to completion; returns its exit status and output.
    static func cli(_ d: Deployment, _ arguments: [String], name: String) async throws -> (status: Int32, output: String) {
        let process = try d.start(name, arguments)
        let status = await process.exitStatus()
        return (status, (try? String(contentsOfFile: process.logPath, encoding: .utf8)) ?? "")
    }

    @Test("jobs through serve: the auditor reads, pages, verifies, exports and proves; tampering is named", .timeLimit(.minutes(5)))
    func auditorJourney() async throws {
        let d = try Self.deployment("audit")
        try await d.applyTopics()
        try await d.startStub()
        try await d.startSluice("serve", role: "serve")
        let prompts = (0..<40).map { (tenant: $0 % 4 == 0 ? "globex" : "acme", text: "[\($0 % 4 == 0 ? "globex" : "acme")] audit job \($0)") }
        let accepted = try await d.submitAll(prompts, concurrency: 8)
        _ = try await d.awaitTerminal(accepted, timeout: .seconds(120))

        // Every event in (counted as an auditor would, in the file: how many events a job
        // writes is the workers' business), and a checkpoint over all of them (interval 1 s).
        let probe = try LedgerProbe(path: d.databasePath)
        try await waitUntil("every job's events are in the ledger", timeout: .seconds(60)) {
            let before = try probe.int("SELECT COUNT(*) FROM audit_events")
            try await Task.sleep(for: .milliseconds(1_500))
            return try probe.int("SELECT COUNT(*) FROM audit_events WHERE type = 'job.succeeded'") == 40
                && probe.int("SELECT COUNT(*) FROM audit_events") == before
        }
        let acmeEvents = try probe.int("SELECT COUNT(*) FROM audit_events WHERE tenant = 'acme'")
        let globexEvents = try probe.int("SELECT COUNT(*) FROM audit_events WHERE tenant = 'globex'")
        #expect(acmeEvents >= 90 && acmeEvents % 30 == 0 && globexEvents == acmeEvents / 3)
        try await waitUntil("a checkpoint covers every event", timeout: .seconds(60)) {
            let (status, json, _) = try await Self.get(d, "/v1/audit/verify", key: Self.auditorKey("acme"))
            return status == 200 && json?["ok"] == .bool(true) && json?["events_checked"]?.intValue == Int64(acmeEvents)
                && json?["events_after_last_checkpoint"]?.intValue == 0
        }

        // Roles and tenants.
        #expect(try await Self.get(d, "/v1/audit/events", key: Deployment.key(for: "acme")).status == 403)
        #expect(try await Self.get(d, "/v1/audit/events?tenant=globex", key: Self.auditorKey("acme")).status == 403)
        #expect(try await Self.get(d, "/v1/audit/events?from=yesterday", key: Self.auditorKey("acme")).status == 400)
        #expect(try await Self.get(d, "/v1/audit/events?limit=0", key: Self.auditorKey("acme")).status == 400)

        // Pages of 25 give every event of the tenant once, in a stable order.
        var seen: [String] = []
        var cursor: String?
        repeat {
            let (status, json, _) = try await Self.get(
                d, "/v1/audit/events?limit=25" + (cursor.map { "&cursor=\($0)" } ?? ""), key: Self.auditorKey("acme"))
            #expect(status == 200)
            let page = json?["data"]?.arrayValue ?? []
            #expect(page.allSatisfy { $0["tenant"]?.stringValue == "acme" && $0["hash"]?.stringValue?.count == 64 })
            seen += page.compactMap { $0["id"]?.stringValue }
            cursor = json?["next_cursor"]?.stringValue
        } while cursor != nil
        #expect(seen.count == acmeEvents && Set(seen).count == acmeEvents)
        let oneJob = try #require(accepted.keys.first { accepted[$0]?.hasPrefix("[acme]") == true })
        let byJob = try await Self.get(d, "/v1/audit/events?job_id=\(oneJob)", key: Self.auditorKey("acme"))
        #expect(byJob.json?["data"]?.arrayValue?.count == acmeEvents / 30)
        let succeeded = try await Self.get(d, "/v1/audit/events?type=job.succeeded&outcome=succeeded&provider=stub", key: Self.auditorKey("acme"))
        #expect(succeeded.json?["data"]?.arrayValue?.count == 30)

        // Proof of one event, checked by the CLI with the published key only.
        let publicKey = try await Self.get(d, "/v1/audit/public-key", key: "")
        #expect(publicKey.status == 200)
        try Data(publicKey.body).write(to: URL(fileURLWithPath: d.dir + "/public-key.json"))
        let eventID = seen[17]
        let proof = try await Self.get(d, "/v1/audit/events/\(eventID)/proof", key: Self.auditorKey("acme"))
        #expect(proof.status == 200)
        try Data(proof.body).write(to: URL(fileURLWithPath: d.dir + "/proof.json"))
        #expect(try await Self.get(d, "/v1/audit/events/\(eventID)/proof", key: Self.auditorKey("globex")).status == 404)
        let proofCheck = try await Self.cli(d, ["audit", "verify-proof", "--proof", d.dir + "/proof.json", "--public-key", d.dir + "/public-key.json"], name: "verify-proof")
        #expect(proofCheck.status == 0, "\(proofCheck.output)")
        let forgedProof = String(decoding: proof.body, as: UTF8.self).replacingOccurrences(of: "\"attempt\":1", with: "\"attempt\":2")
        try forgedProof.write(toFile: d.dir + "/forged-proof.json", atomically: true, encoding: .utf8)
        let forgedCheck = try await Self.cli(d, ["audit", "verify-proof", "--proof", d.dir + "/forged-proof.json", "--public-key", d.dir + "/public-key.json"], name: "verify-forged-proof")
        #expect(forgedCheck.status != 0)

        // Export, verify offline; a modified export fails.
        let export = try await Self.cli(d, ["audit", "export", "--config", d.configPath, "--format", "jsonl", "--output", d.dir + "/export.jsonl"], name: "export")
        #expect(export.status == 0, "\(export.output)")
        let offline = try await Self.cli(d, ["audit", "verify", "--file", d.dir + "/export.jsonl", "--public-key", d.dir + "/public-key.json"], name: "verify-file")
        #expect(offline.status == 0, "\(offline.output)")
        let exported = try String(contentsOfFile: d.dir + "/export.jsonl", encoding: .utf8)
        try exported.replacingOccurrences(of: "\"attempt\":1,", with: "\"attempt\":3,").write(toFile: d.dir + "/modified.jsonl", atomically: true, encoding: .utf8)
        let modified = try await Self.cli(d, ["audit", "verify", "--file", d.dir + "/modified.jsonl", "--public-key", d.dir + "/public-key.json"], name: "verify-modified")
        #expect(modified.status != 0)
        let csv = try await Self.cli(d, ["audit", "export", "--config", d.configPath, "--format", "csv", "--tenant", "globex", "--output", d.dir + "/export.csv"], name: "export-csv")
        #expect(csv.status == 0)
        #expect(try String(contentsOfFile: d.dir + "/export.csv", encoding: .utf8).split(separator: "\n").count == globexEvents + 1)

        // The CLI against the ledger file: clean, then after one stored payload is changed.
        let clean = try await Self.cli(d, ["audit", "verify", "--config", d.configPath], name: "verify-db")
        #expect(clean.status == 0, "\(clean.output)")
        #expect(await d.processes["serve"]?.terminate() == 0)
        let victim = seen[40]
        try await DatabaseQueue(path: d.databasePath).write { db in
            try db.execute(sql: "UPDATE audit_events SET detail = '{\"route\":\"elsewhere\"}' WHERE id = ?", arguments: [victim])
        }
        let tampered = try await Self.cli(d, ["audit", "verify", "--config", d.configPath], name: "verify-tampered")
        #expect(tampered.status != 0)
        #expect(tampered.output.contains(victim), "the report names the event: \(tampered.output)")
    }

    @Test("the ledger SIGKILLed while events stream in: after restart every event is held once and the chains verify", .timeLimit(.minutes(5)))
    func ledgerKilledMidStream() async throws {
        let d = try Self.deployment("audit-kill")
        try await d.applyTopics()
        try await d.startStub()
        try await d.startSplitRoles(workers: ["worker"])
        let prompts = (0..<300).map { (tenant: $0 % 3 == 0 ? "globex" : "acme", text: "[\($0 % 3 == 0 ? "globex" : "acme")] kill job \($0)") }
        async let submitted = d.submitAll(prompts, concurrency: 16)
        let probe = try LedgerProbe(path: d.databasePath)
        try await waitUntil("the ledger has stored some events", timeout: .seconds(60)) {
            (try? probe.int("SELECT COUNT(*) FROM audit_events")) ?? 0 >= 150
        }
        d.processes["ledger"]?.kill()
        _ = await d.processes["ledger"]?.exitStatus()
        try await Task.sleep(for: .seconds(1))
        try await d.startSluice("ledger", role: "ledger")
        let accepted = try await submitted
        #expect(accepted.count == 300)
        _ = try await d.awaitTerminal(accepted, timeout: .seconds(180))
        try await waitUntil("every event is in the ledger", timeout: .seconds(60)) {
            (try? probe.int("SELECT COUNT(*) FROM audit_events WHERE type = 'job.succeeded'")) ?? 0 >= 300
        }
        for type in ["job.accepted", "job.started", "job.succeeded"] {
            let counts = try probe.countsByJob("SELECT job_id FROM audit_events WHERE type = '\(type)'")
            #expect(Set(counts.keys) == Set(accepted.keys), "\(type)")
            #expect(counts.values.allSatisfy { $0 == 1 }, "\(type) stored more than once")
        }
        // Each chain holds every one of its tenant's events once, in positions 1…n.
        for tenant in ["acme", "globex"] {
            let rows = try probe.int("SELECT COUNT(*) FROM audit_events WHERE tenant = ?", [tenant])
            #expect(try probe.int("SELECT COUNT(DISTINCT chain_index) FROM audit_events WHERE tenant = ?", [tenant]) == rows)
            #expect(try probe.int("SELECT MAX(chain_index) FROM audit_events WHERE tenant = ?", [tenant]) == rows)
            #expect(try probe.int("SELECT length FROM audit_chain_heads WHERE tenant = ?", [tenant]) == rows)
        }
        try await waitUntil("a checkpoint covers every event", timeout: .seconds(30)) {
            let (status, json, _) = try await Self.get(d, "/v1/audit/verify", key: Self.auditorKey("acme"))
            return status == 200 && json?["events_after_last_checkpoint"]?.intValue == 0
        }
        let verify = try await Self.cli(d, ["audit", "verify", "--config", d.configPath], name: "verify-after-kill")
        #expect(verify.status == 0, "\(verify.output)")

        // Answers are sealed at rest (ledger.encrypt_payloads defaults to true).
        #expect(try probe.int("SELECT COUNT(*) FROM results WHERE response IS NOT NULL AND response NOT LIKE 'sealed1:%'") == 0)
        #expect(try probe.int("SELECT COUNT(*) FROM results WHERE response LIKE 'sealed1:%'") == 300)

        // Issue test 5: a ledger rebuilt from the topics reaches the same chain heads, despite
        // the SIGKILL and the redelivery it caused.
        let rebuiltPath = d.databasePath + ".rebuilt"
        let rebuild = try await Self.cli(d, ["ledger", "rebuild", "--config", d.configPath, "--into", rebuiltPath], name: "rebuild")
        #expect(rebuild.status == 0, "\(rebuild.output)")
        #expect(rebuild.output.contains("chain heads match"), "\(rebuild.output)")
        let rebuilt = try LedgerProbe(path: rebuiltPath)
        for tenant in ["acme", "globex"] {
            #expect(try rebuilt.int("SELECT length FROM audit_chain_heads WHERE tenant = ?", [tenant])
                == probe.int("SELECT length FROM audit_chain_heads WHERE tenant = ?", [tenant]))
        }
        #expect(try rebuilt.int("SELECT COUNT(*) FROM results") == 300)

        // Erasure through the CLI: globex's answers are gone, the chain still verifies.
        let erase = try await Self.cli(
            d, ["audit", "erase-tenant", "--config", d.configPath, "--tenant", "globex", "--confirm", "globex"], name: "erase")
        #expect(erase.status == 0, "\(erase.output)")
        #expect(try probe.int("SELECT COUNT(*) FROM results WHERE tenant = 'globex' AND response IS NOT NULL") == 0)
        #expect(try probe.int("SELECT COUNT(*) FROM tenant_data_keys WHERE tenant = 'globex' AND wrapped_key IS NULL") == 1)
        let verifyErased = try await Self.cli(d, ["audit", "verify", "--config", d.configPath], name: "verify-after-erase")
        #expect(verifyErased.status == 0, "\(verifyErased.output)")
    }
}
