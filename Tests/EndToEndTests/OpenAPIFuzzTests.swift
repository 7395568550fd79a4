import Foundation
import SluiceCore
import SluiceHTTP
import Testing

/// Schemathesis (pinned in scripts/setup) against a real `sluice serve`, driven by the served
/// `/openapi.json`: every phase, stateful included, bounded by examples per operation and a
/// wall-clock cap. Any 5xx, any answer the document does not describe (status, content type,
/// headers, body schema) fails the test with schemathesis's report.
@Suite("End to end: OpenAPI fuzzing", .serialized, .timeLimit(.minutes(8)))
struct OpenAPIFuzzTests {
    @Test("schemathesis finds no 5xx and no answer outside the document")
    func schemathesis() async throws {
        let binary = try Harness.repoRoot + "/.venv/bin/schemathesis"
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            Issue.record("\(binary) is missing: run scripts/setup")
            return
        }
        let d = try Deployment(name: "openapi-fuzz", tenants: ["acme", "ops"], tenantSettings: ["ops": ["role: admin", "allow_p0: true"]])
        try await d.applyTopics()
        try await d.startStub()
        try await d.startSluice("serve", role: "serve")

        let seed = ProcessInfo.processInfo.environment["SLUICE_FUZZ_SEED"] ?? String(UInt32.random(in: 0...UInt32.max))
        print("schemathesis seed \(seed) (replay with SLUICE_FUZZ_SEED=\(seed))")
        let logPath = "\(d.dir)/schemathesis.log"
        let run = try SluiceProcess(
            name: "schemathesis", executable: binary,
            arguments: [
                "run", d.baseURL + "/openapi.json", "--url", d.baseURL,
                "--header", "Authorization: Bearer \(Deployment.key(for: "ops"))",
                "--phases", "examples,coverage,fuzzing,stateful",
                "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance",
                "--max-examples", "25", "--request-timeout", "15", "--seed", seed, "--no-color",
                // Hypothesis times its own data generation; on a loaded 2-core box the nested
                // message-batch schema trips that health check, which says nothing about Sluice.
                "--suppress-health-check=too_slow",
            ],
            logPath: logPath)
        // Bounded: a hung run is stopped and fails the test. The document has 41 operations; a
        // run takes about a minute on a quiet 2-core box and five times that while other builds
        // share it, hence the generous cap.
        let deadline = ContinuousClock.now + .seconds(360)
        while run.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(200)) }
        if run.isRunning { run.kill() }
        let status = await run.exitStatus()
        let report = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        #expect(status == 0, "schemathesis exited \(status):\n\(report.suffix(6_000))")
        #expect(d.processes["serve"]?.isRunning == true, "serve died: \(d.processes["serve"]?.logTail() ?? "")")
        let serveLog = (try? String(contentsOfFile: "\(d.dir)/serve.log", encoding: .utf8)) ?? ""
        #expect(serveLog.contains("unhandled error") == false, "serve logged an unhandled error")
    }
}
