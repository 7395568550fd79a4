import Foundation
import SluiceCore
import SluiceHTTP

/// The two calls the bench makes against Sluice's public API, and how it reads their answers.
///
/// Only the fields the bench needs are decoded, so it keeps working as the job view grows.
struct BenchAPI: Sendable {
    let client: CurlHTTPClient
    let configuration: BenchConfiguration
    let baseURL: String
    /// Makes this run's prompts differ from every other run's, so that idempotency or caching
    /// on the server cannot shortcut them.
    private let runTag: String

    private static let requestTimeoutMs = 30_000

    init(client: CurlHTTPClient, configuration: BenchConfiguration) {
        self.client = client
        self.configuration = configuration
        var base = configuration.baseURL
        while base.hasSuffix("/") { base.removeLast() }
        baseURL = base
        runTag = String(UUIDv7.generate().suffix(8))
    }

    // MARK: - Submit

    struct Submission: Sendable {
        /// The job id of a 202; nil when rejected.
        var id: String?
        var latencyMs: Double
        /// Why it was rejected.
        var error: String?
    }

    func submit(index: Int) async -> Submission {
        var body = JSONObjectWriter()
        body.set("model", configuration.model)
        body.set("messages", JSONValue.array([
            ["role": "user", "content": .string(BenchPrompt.text(index: index, runTag: runTag, bytes: configuration.promptBytes))]
        ]))
        body.set("priority", configuration.priority)
        let request = HTTPClientRequest(
            method: "POST", url: baseURL + "/v1/jobs",
            headers: [HTTPHeader("Authorization", "Bearer \(configuration.apiKey)"), HTTPHeader("Content-Type", "application/json")],
            body: body.json.serialized(),
            timeoutMs: Self.requestTimeoutMs)
        let started = ContinuousClock.now
        do {
            let response = try await client.execute(request)
            let latency = Bench.seconds(ContinuousClock.now - started) * 1000
            guard response.status == 202, let id = (try? JSONValue.parse(response.body))?["id"]?.stringValue else {
                return Submission(id: nil, latencyMs: latency, error: "HTTP \(response.status): \(response.bodyText.prefix(300))")
            }
            return Submission(id: id, latencyMs: latency, error: nil)
        } catch {
            return Submission(id: nil, latencyMs: Bench.seconds(ContinuousClock.now - started) * 1000, error: "\(error)")
        }
    }

    // MARK: - Poll

    struct JobPoll: Sendable {
        var status: String
        var endToEndMs: Double?
        var seenAt: ContinuousClock.Instant

        var isTerminal: Bool { JobStatus(rawValue: status)?.isTerminal ?? false }
    }

    /// The job's status now, or nil when the poll failed (it is retried next round).
    func poll(id: String) async -> JobPoll? {
        let request = HTTPClientRequest(
            url: baseURL + "/v1/jobs/" + id, headers: [HTTPHeader("Authorization", "Bearer \(configuration.apiKey)")],
            timeoutMs: Self.requestTimeoutMs)
        guard let response = try? await client.execute(request), response.status == 200,
            let view = try? JSONValue.parse(response.body), let status = view["status"]?.stringValue
        else { return nil }
        var endToEnd: Double?
        if let created = view["created_at_ms"]?.intValue, let completed = view["completed_at_ms"]?.intValue {
            endToEnd = Double(completed - created)
        }
        return JobPoll(status: status, endToEndMs: endToEnd, seenAt: ContinuousClock.now)
    }
}
