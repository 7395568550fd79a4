import Foundation
import SluiceCore
import Testing

/// `ingress.tls`: the HTTP API over HTTPS with a certificate made for the test.
@Suite("End to end: HTTPS ingress", .serialized, .timeLimit(.minutes(3)))
struct TLSEndToEndTests {
    /// Runs a tool to its end (off the concurrency pool); returns its exit status and output.
    static func run(_ executable: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        let result = try await Tool.run(executable, arguments)
        return (result.status, result.stdout + result.stderr)
    }

    @Test("with cert_file and key_file the API answers over HTTPS (and not over plain HTTP); a bad file stops serve naming the key")
    func https() async throws {
        let d = try Deployment(name: "tls", tenants: ["acme"])
        let cert = d.dir + "/cert.pem", key = d.dir + "/key.pem"
        let made = try await Self.run("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert,
        ])
        try #require(made.status == 0, "\(made.output)")
        let yaml = try String(contentsOfFile: d.configPath, encoding: .utf8)
        try yaml.replacingOccurrences(of: "ingress:\n", with: "ingress:\n  tls: {cert_file: \(cert), key_file: \(key)}\n")
            .write(toFile: d.configPath, atomically: true, encoding: .utf8)
        try await d.applyTopics()
        try await d.startStub()
        try d.start("serve", ["serve", "--config", d.configPath])

        let url = "https://127.0.0.1:\(d.apiPort)"
        _ = try await d.poll("serve answers over HTTPS", timeout: .seconds(60)) {
            let health = try await Self.run("/usr/bin/curl", ["-sS", "--max-time", "5", "--cacert", cert, url + "/healthz"])
            return (health.status == 0 && health.output.contains("ok"), .string(health.output))
        }
        let submitted = try await Self.run("/usr/bin/curl", [
            "-sS", "--max-time", "15", "--cacert", cert, "-H", "Authorization: Bearer \(Deployment.key(for: "acme"))",
            "-H", "Content-Type: application/json", "-d", Deployment.demoJob, url + "/v1/jobs",
        ])
        #expect((try? JSONValue.parse(Array(submitted.output.utf8)))?["status"]?.stringValue == "queued", "\(submitted.output)")
        let plain = try await Self.run("/usr/bin/curl", ["-sS", "--max-time", "5", "http://127.0.0.1:\(d.apiPort)/healthz"])
        #expect(!plain.output.contains(#""status":"ok""#), "plain HTTP must not be served: \(plain.output)")
        _ = await d.processes["serve"]?.terminate()

        // A key file that is not a key: serve stops at start with a line naming the setting.
        try "not a key".write(toFile: key, atomically: true, encoding: .utf8)
        let broken = try d.start("serve-broken", ["serve", "--config", d.configPath])
        let status = await broken.exitStatus()
        #expect(status != 0)
        #expect(broken.logTail().contains("ingress.tls.key_file"), "\(broken.logTail())")
        #expect(!broken.logTail().contains("not a key"), "the file's content is never echoed")
    }
}
