import Foundation
import SluiceCore
import SluiceHTTP
import Testing

extension Deployment {
    /// A request with a bearer key (not a tenant's config key).
    func call(_ method: String, _ path: String, key: String, body: String? = nil) async throws -> HTTPClientResponse {
        var headers = [HTTPHeader("Authorization", "Bearer \(key)")]
        if body != nil { headers.append(HTTPHeader("Content-Type", "application/json")) }
        return try await http.execute(HTTPClientRequest(
            method: method, url: baseURL + path, headers: headers, body: Array((body ?? "").utf8), timeoutMs: 15_000))
    }

    /// `sluice keys create …`; returns the key it printed and its key id.
    func createKey(_ arguments: [String]) async throws -> (key: String, id: String) {
        let (status, output) = try await runCommand(["keys", "create"] + arguments)
        guard status == 0, let line = output.split(separator: "\n").first(where: { $0.hasPrefix("sk-sluice-") }) else {
            throw HarnessError("keys create failed (\(status)): \(output)")
        }
        let key = String(line)
        return (key, String(key.dropFirst(10).prefix(16)))
    }

    static let demoJob = #"{"model":"demo","messages":[{"role":"user","content":"hello"}]}"#
}

/// Tenants, keys, roles and limits with real processes: `sluice serve`, the dev broker, the
/// ledger file and the `sluice keys` command.
@Suite("End to end: tenancy", .serialized, .timeLimit(.minutes(5)))
struct TenancyEndToEndTests {
    @Test("a key made with 'sluice keys create' works at once; revoked or expired, it is refused within seconds")
    func keyLifecycle() async throws {
        let d = try Deployment(name: "tenancy-keys", tenants: ["acme"])
        try await d.applyTopics()
        try await d.startStub()
        try await d.startSluice("serve", role: "serve")

        let revoked = try await d.createKey(["--tenant", "acme", "--role", "submitter"])
        let expiring = try await d.createKey(["--tenant", "acme", "--expires", "4s"])
        // The ledger keeps only a salted hash: the key itself is nowhere in the file.
        let probe = try LedgerProbe(path: d.databasePath)
        #expect(try probe.int("SELECT COUNT(*) FROM api_keys") == 2)
        let fileBytes = try Data(contentsOf: URL(fileURLWithPath: d.databasePath)) + ((try? Data(contentsOf: URL(fileURLWithPath: d.databasePath + "-wal"))) ?? Data())
        #expect(fileBytes.range(of: Data(revoked.key.utf8)) == nil)

        // Picked up by the running ingress (it re-reads the table every 2 s).
        _ = try await d.poll("the new key is accepted", timeout: .seconds(30)) {
            let status = try await d.call("POST", "/v1/jobs", key: revoked.key, body: Deployment.demoJob).status
            return (status == 202, .int(Int64(status)))
        }
        let (status, output) = try await d.runCommand(["keys", "revoke", revoked.id])
        #expect(status == 0, "\(output)")
        _ = try await d.poll("the revoked key is refused", timeout: .seconds(30)) {
            let response = try await d.call("GET", "/v1/jobs/00000000-0000-7000-8000-000000000000", key: revoked.key)
            return (response.status == 401, .string(response.bodyText))
        }
        let answer = try await d.call("POST", "/v1/jobs", key: revoked.key, body: Deployment.demoJob)
        #expect(answer.status == 401)
        #expect(!answer.bodyText.contains(revoked.key), "an error never repeats the key")

        _ = try await d.poll("the expired key is refused", timeout: .seconds(30)) {
            let status = try await d.call("POST", "/v1/jobs", key: expiring.key, body: Deployment.demoJob).status
            return (status == 401, .int(Int64(status)))
        }
        // The config file's key is untouched by all of this.
        #expect(try await d.submit(body: Deployment.demoJob).status == 202)
        let list = try await d.runCommand(["keys", "list", "--tenant", "acme"])
        #expect(list.output.contains("revoked") && list.output.contains("expired"), "\(list.output)")
        #expect(!list.output.contains(revoked.key))
    }

    @Test("tenant B cannot read or cancel A's job (404, not 403); auditors see only granted tenants")
    func isolation() async throws {
        let d = try Deployment(name: "tenancy-isolation", tenants: ["acme", "globex"])
        try await d.applyTopics()
        try await d.startStub()
        try await d.startSluice("serve", role: "serve")

        let id = try await d.submitOne("acme's secret plans", tenant: "acme")
        try await d.awaitStatus(id, .succeeded, tenant: "acme")
        let read = try await d.job(id, tenant: "globex")
        #expect(read.status == 404)
        let cancel = try await d.cancel(id, tenant: "globex")
        #expect(cancel.status == 404)
        #expect(cancel.json?["error"]?["code"]?.stringValue == "job_not_found")

        let ungranted = try await d.createKey(["--tenant", "globex", "--role", "auditor"])
        let granted = try await d.createKey(["--tenant", "globex", "--role", "auditor", "--grant", "acme"])
        _ = try await d.poll("the granted auditor sees acme's events", timeout: .seconds(60)) {
            let response = try await d.call("GET", "/v1/audit/events?job_id=\(id)", key: granted.key)
            let count = (try? JSONValue.parse(response.body))?["data"]?.arrayValue?.count ?? 0
            return (response.status == 200 && count > 0, .int(Int64(count)))
        }
        // Without a grant: nothing at all, whether or not the tenant is named.
        let none = try await d.call("GET", "/v1/audit/events?job_id=\(id)", key: ungranted.key)
        #expect(none.status == 200)
        #expect((try JSONValue.parse(none.body))["data"]?.arrayValue?.isEmpty == true)
        #expect(try await d.call("GET", "/v1/audit/events?tenant=acme", key: ungranted.key).status == 403)
        // An auditor cannot submit.
        #expect(try await d.call("POST", "/v1/jobs", key: granted.key, body: Deployment.demoJob).status == 403)
        // A submitter cannot read the audit log or the admin API.
        #expect(try await d.call("GET", "/v1/audit/events", key: Deployment.key(for: "globex")).status == 403)
        #expect(try await d.call("GET", "/v1/admin/tenants", key: Deployment.key(for: "globex")).status == 403)
    }

    @Test("a burst beyond the tenant's rate gets 429 with Retry-After; p0 is 403 naming priority unless allowed")
    func rateLimitAndPriority() async throws {
        let d = try Deployment(
            name: "tenancy-rate", tenants: ["acme", "vip"],
            tenantSettings: ["acme": ["limits: {requests_per_second: 1, burst: 3}"], "vip": ["allow_p0: true"]])
        try await d.applyTopics()
        try await d.startStub()
        try await d.startSluice("serve", role: "serve")

        var statuses: [Int] = []
        var retryAfter: [String] = []
        for _ in 0..<12 {
            let response = try await d.submit(tenant: "acme", body: Deployment.demoJob)
            statuses.append(response.status)
            if response.status == 429 { retryAfter.append(response.header("Retry-After") ?? "") }
        }
        #expect(statuses.allSatisfy { $0 == 202 || $0 == 429 }, "\(statuses)")
        #expect(statuses.filter { $0 == 429 }.count >= 1, "\(statuses)")
        #expect(statuses.prefix(3).allSatisfy { $0 == 202 }, "the burst of 3 is admitted: \(statuses)")
        #expect(retryAfter.allSatisfy { Int($0).map { $0 >= 1 } == true }, "\(retryAfter)")

        let p0 = #"{"model":"demo","priority":"p0","messages":[{"role":"user","content":"now"}]}"#
        let refused = try await d.submit(tenant: "acme", body: p0)
        // acme may still be rate limited; wait for a token, then ask again.
        var answer = refused
        if refused.status == 429 {
            try await Task.sleep(for: .seconds(Int(refused.header("Retry-After") ?? "1") ?? 1))
            answer = try await d.submit(tenant: "acme", body: p0)
        }
        #expect(answer.status == 403)
        #expect((try JSONValue.parse(answer.body))["error"]?["param"]?.stringValue == "priority")
        #expect(try await d.submit(tenant: "vip", body: p0).status == 202)
    }

    @Test("over its monthly budget a tenant's jobs are refused with 429 and nothing more is queued; an admin raises it at runtime")
    func budget() async throws {
        let providers = """
        providers:
          - name: stub
            base_url: STUB/v1
        routes:
          demo: {provider: stub}
        pricing:
          demo: {input_per_million: 1000000, output_per_million: 1000000}
        """
        let d = try Deployment(
            name: "tenancy-budget", tenants: ["acme", "ops"], providers: providers,
            tenantSettings: ["acme": ["limits: {monthly_budget: 0.5}"], "ops": ["role: admin"]])
        try await d.applyTopics()
        try await d.startStub()
        try await d.startSluice("serve", role: "serve")

        let first = try await d.submitOne("spend it all")
        try await d.awaitStatus(first, .succeeded)
        // Jobs answered 202 before the ledger recorded the first job's cost.
        var slipped = 0
        let refused = try await d.poll("the spent budget refuses new jobs", timeout: .seconds(30)) {
            let response = try await d.submit(body: Deployment.demoJob)
            if response.status == 202 { slipped += 1 }
            return (response.status == 429, (try? JSONValue.parse(response.body)) ?? .int(Int64(response.status)))
        }
        #expect(refused["error"]?["code"]?.stringValue == "budget_exceeded")
        #expect(refused["error"]?["message"]?.stringValue?.contains("budget") == true)
        for _ in 0..<5 {
            let response = try await d.submit(body: Deployment.demoJob)
            #expect(response.status == 429)
            #expect(Int(response.header("Retry-After") ?? "") ?? 0 >= 1)
        }
        // The ledger holds exactly the jobs answered 202: the refused ones never reached Kafka.
        let expected = 1 + slipped
        _ = try await d.poll("the ledger holds acme's \(expected) accepted jobs", timeout: .seconds(30)) {
            let count = try LedgerProbe(path: d.databasePath).int("SELECT COUNT(*) FROM jobs WHERE tenant = 'acme'")
            return (count >= expected, .int(Int64(count)))
        }
        try await Task.sleep(for: .seconds(3))
        #expect(try LedgerProbe(path: d.databasePath).int("SELECT COUNT(*) FROM jobs WHERE tenant = 'acme'") == expected)

        // The admin raises the budget over HTTP; it takes effect without a restart.
        let admin = Deployment.key(for: "ops")
        let patched = try await d.call("PATCH", "/v1/admin/tenants/acme", key: admin, body: #"{"limits":{"monthly_budget":1000000}}"#)
        #expect(patched.status == 200, "\(patched.bodyText)")
        #expect(try await d.submit(body: Deployment.demoJob).status == 202)
        // And the admin API refuses what is out of range, naming the field.
        let bad = try await d.call("PATCH", "/v1/admin/tenants/acme", key: admin, body: #"{"limits":{"burst":0}}"#)
        #expect(bad.status == 400)
        #expect((try JSONValue.parse(bad.body))["error"]?["param"]?.stringValue == "limits.burst")
    }
}
