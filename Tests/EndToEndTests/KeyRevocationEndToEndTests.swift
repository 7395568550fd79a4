import Foundation
import SluiceCore
import SluiceHTTP
import Testing

/// Key revocation through `sluice.control` with real processes: a ledger, two `sluice ingress`
/// processes on the same ledger file and the dev broker, and the `sluice keys` command.
///
/// Both ingresses re-read the key table only every 10 minutes here (`tenancy_refresh_ms`), so
/// a key refused within the test's wait was refused because the control event reached that
/// ingress, not because of the periodic re-read.
@Suite("End to end: key revocation through the control topic", .serialized, .timeLimit(.minutes(5)))
struct KeyRevocationEndToEndTests {
    /// The status a key gets at an ingress: 404 for the unknown job means the key was accepted.
    static func status(_ d: Deployment, port: Int, key: String) async throws -> Int {
        let response = try await d.http.execute(HTTPClientRequest(
            url: "http://127.0.0.1:\(port)/v1/jobs/00000000-0000-7000-8000-000000000000",
            headers: [HTTPHeader("Authorization", "Bearer \(key)")], timeoutMs: 15_000))
        return response.status
    }

    @Test("revoked with 'sluice keys revoke', by the admin API at one ingress, or expired: refused at the other ingress too; a new limit applies there too")
    func revocationReachesEveryIngress() async throws {
        let d = try Deployment(
            name: "revocation", tenants: ["acme", "ops"], tenantSettings: ["ops": ["role: admin"]],
            ingressSettings: ["tenancy_refresh_ms: 600000"])
        try await d.applyTopics()
        try await d.startSluice("ledger", role: "ledger")
        try await waitUntil("the ledger created its database", timeout: .seconds(30)) {
            FileManager.default.fileExists(atPath: d.databasePath)
        }
        let viaCLI = try await d.createKey(["--tenant", "acme"])
        let viaAPI = try await d.createKey(["--tenant", "acme"])
        let expired = try await d.createKey(["--tenant", "acme"])
        let kept = try await d.createKey(["--tenant", "acme"])

        try await d.startSluice("ingress-a", role: "ingress")
        let portB = Harness.freePort()
        try d.start("ingress-b", ["ingress", "--config", d.configPath], environment: ["SLUICE_INGRESS_PORT": "\(portB)"])
        try await waitUntil("ingress-b answers /healthz", timeout: .seconds(60)) {
            (try? await d.http.execute(HTTPClientRequest(url: "http://127.0.0.1:\(portB)/healthz", timeoutMs: 1000)))?.status == 200
        }
        // Each ingress follows the control topic from its end, so wait until both do.
        for name in ["ingress-a", "ingress-b"] {
            try await waitUntil("\(name) follows the control topic", timeout: .seconds(60)) {
                let log = (try? String(contentsOfFile: "\(d.dir)/\(name).log", encoding: .utf8)) ?? ""
                return log.contains("following the control topic")
            }
        }
        let ports = ["a": d.apiPort, "b": portB]
        for key in [viaCLI, viaAPI, expired, kept] {
            for (name, port) in ports {
                #expect(try await Self.status(d, port: port, key: key.key) == 404, "\(key.id) at ingress \(name)")
            }
        }

        // 1. The CLI writes the ledger and announces the revocation.
        let revoke = try await d.runCommand(["keys", "revoke", viaCLI.id])
        #expect(revoke.status == 0, "\(revoke.output)")
        #expect(revoke.output.contains("announced"), "\(revoke.output)")
        for (name, port) in ports {
            _ = try await d.poll("the key revoked by the CLI is refused at ingress \(name)", timeout: .seconds(60)) {
                let status = try await Self.status(d, port: port, key: viaCLI.key)
                return (status == 401, .int(Int64(status)))
            }
        }

        // 2. The admin API at ingress A revokes; ingress B hears of it.
        let answer = try await d.call("POST", "/v1/admin/keys/\(viaAPI.id)/revoke", key: Deployment.key(for: "ops"))
        #expect(answer.status == 200, "\(answer.bodyText)")
        _ = try await d.poll("the key revoked at ingress A is refused at ingress B", timeout: .seconds(60)) {
            let status = try await Self.status(d, port: portB, key: viaAPI.key)
            return (status == 401, .int(Int64(status)))
        }

        // 3. An expiry set now by the CLI.
        let expire = try await d.runCommand(["keys", "expire", expired.id])
        #expect(expire.status == 0, "\(expire.output)")
        _ = try await d.poll("the expired key is refused at ingress B", timeout: .seconds(60)) {
            let status = try await Self.status(d, port: portB, key: expired.key)
            return (status == 401, .int(Int64(status)))
        }

        // Nothing else changed: the other ledger key and the config file's key still work at both.
        for (name, port) in ports {
            #expect(try await Self.status(d, port: port, key: kept.key) == 404, "kept key at ingress \(name)")
            #expect(try await Self.status(d, port: port, key: Deployment.key(for: "acme")) == 404, "config key at ingress \(name)")
        }

        // 4. A limit set with 'sluice tenants set' reaches ingress B the same way: one request
        //    per ~17 minutes, so a second submission in a row is a 429.
        let limit = try await d.runCommand(["tenants", "set", "acme", "--requests-per-second", "0.001", "--burst", "1"])
        #expect(limit.status == 0, "\(limit.output)")
        _ = try await d.poll("ingress B enforces the new rate limit", timeout: .seconds(60)) {
            let response = try await d.http.execute(HTTPClientRequest(
                method: "POST", url: "http://127.0.0.1:\(portB)/v1/jobs",
                headers: [HTTPHeader("Authorization", "Bearer \(kept.key)"), HTTPHeader("Content-Type", "application/json")],
                body: Array(Deployment.demoJob.utf8), timeoutMs: 15_000))
            return (response.status == 429, .int(Int64(response.status)))
        }
        #expect(d.processes["ingress-a"]?.isRunning == true && d.processes["ingress-b"]?.isRunning == true)
    }
}
