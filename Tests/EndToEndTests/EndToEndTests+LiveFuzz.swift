import Foundation
import RequestFuzzing
import SluiceCore
import SluiceHTTP
import Testing
import Workers

/// Hostile bodies over real HTTP to a running `sluice serve`: the process answers each one
/// and is still alive afterwards.
///
/// Part of the serialized "End to end" suite: every `serve` joins the shared `sluice-workers`
/// group, and a member coming or going rebalances the other tests' workers.
extension EndToEndTests {
    @Test("2,000 mutated bodies to `sluice serve`: each a 202 or a 4xx JSON error; accepted ones finish; serve survives", .timeLimit(.minutes(3)))
    func hostileBodies() async throws {
        let seed = ProcessInfo.processInfo.environment["SLUICE_FUZZ_SEED"].flatMap { UInt64($0) } ?? .random(in: 0...UInt64.max)
        print("hostileBodies: fuzz seed \(seed) (replay with SLUICE_FUZZ_SEED=\(seed))")
        let d = try Deployment(name: "fuzz")
        try await d.applyTopics()
        try await d.startStub()
        try await d.startSluice("serve", role: "serve")

        // The body that used to trap `serve` (deadline seconds * 1000 overflowing Int64) first.
        var bodies = [Array(#"{"model":"demo","messages":[{"role":"user","content":"hi"}],"deadline":9300000000000000}"#.utf8)]
        var fuzzer = RequestFuzzer(seed: seed, nowSeconds: WallClock.system.nowMs() / 1000)
        while bodies.count < 2_000 { bodies.append(fuzzer.nextBody()) }

        let outcomes = try await withThrowingTaskGroup(of: (Int, String?, Int, String?).self) { group in
            var next = 0
            func add() {
                guard next < bodies.count else { return }
                let (i, body) = (next, bodies[next])
                next += 1
                group.addTask {
                    let (problem, status, id) = try await Self.sendHostile(body, to: d)
                    return (i, problem, status, id)
                }
            }
            for _ in 0..<8 { add() }
            var outcomes: [(Int, String?, Int, String?)] = []
            while let outcome = try await group.next() {
                outcomes.append(outcome)
                add()
            }
            return outcomes
        }
        let accepted = outcomes.filter { $0.1 == nil && $0.2 == 202 }.count
        print("hostileBodies: \(accepted) accepted (202), \(outcomes.filter { $0.1 == nil }.count - accepted) rejected (4xx)")
        #expect(accepted >= 100, "the fuzzer must also reach the accepting path (Kafka)")
        let failures = outcomes.compactMap { i, problem, _, _ in problem.map { "#\(i) \($0): \(String(decoding: bodies[i].prefix(200), as: UTF8.self))" } }
        #expect(failures.isEmpty, "seed \(seed): \(failures.count) bad answers, first: \(failures.prefix(5).joined(separator: "\n"))")
        #expect(outcomes.first { $0.0 == 0 }?.2 == 400, "the overflowing deadline must be a 400, not crash serve")

        #expect(d.processes["serve"]?.isRunning == true, "serve died: \(d.processes["serve"]?.logTail() ?? "")")
        let health = try await d.http.execute(HTTPClientRequest(url: d.baseURL + "/healthz", timeoutMs: 5_000))
        #expect(health.status == 200)

        // What was accepted is real work: every such job finishes (the stub answers it, or the
        // provider's refusal fails it). Waiting also lets serve's workers join their group before
        // it stops; a member leaving mid-join stalls the shared group for the next test.
        let ids = Dictionary(outcomes.compactMap { outcome in outcome.3.map { ($0, "[acme]") } }, uniquingKeysWith: { a, _ in a })
        let finished = try await d.awaitTerminal(ids, timeout: .seconds(120))
        #expect(finished.count == ids.count)
        #expect(await d.processes["serve"]?.terminate() == 0, "serve must still stop cleanly on SIGTERM")
    }

    /// Sends one body; the problem is nil when the answer is a 202 job or a 4xx
    /// `{error:{type, code, message}}`.
    static func sendHostile(_ body: [UInt8], to d: Deployment) async throws -> (problem: String?, status: Int, id: String?) {
        let response: HTTPClientResponse
        do {
            response = try await d.http.execute(HTTPClientRequest(
                method: "POST", url: d.baseURL + "/v1/jobs",
                headers: [HTTPHeader("Authorization", "Bearer \(Deployment.key(for: "acme"))"), HTTPHeader("Content-Type", "application/json")],
                body: body, timeoutMs: 15_000
            ))
        } catch {
            // A dead or hung `serve` shows as answers missing, named per body.
            return ("no answer: \(error)", 0, nil)
        }
        let status = response.status
        guard let json = try? JSONValue.parse(response.body) else { return ("\(status) with a non-JSON body", status, nil) }
        switch status {
        case 202:
            guard json["status"]?.stringValue == "queued", let id = json["id"]?.stringValue else {
                return ("202 without a queued job: \(response.bodyText)", status, nil)
            }
            return (nil, status, id)
        case 400..<500:
            let error = json["error"]
            guard error?["type"]?.stringValue != nil, error?["code"]?.stringValue != nil, error?["message"]?.stringValue != nil else {
                return ("\(status) without {error:{type, code, message}}: \(response.bodyText)", status, nil)
            }
            return (nil, status, nil)
        default:
            return ("status \(status): \(response.bodyText.prefix(300))", status, nil)
        }
    }
}
