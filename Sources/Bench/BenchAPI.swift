import Foundation
import SluiceCore
import Workers

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
        let body = SubmitBody(
            model: configuration.model,
            messages: [.init(role: "user", content: BenchPrompt.text(index: index, runTag: runTag, bytes: configuration.promptBytes))],
            priority: configuration.priority)
        let request = HTTPClientRequest(
            method: "POST", url: baseURL + "/v1/jobs",
            headers: [HTTPHeader("Authorization", "Bearer \(configuration.apiKey)"), HTTPHeader("Content-Type", "application/json")],
            body: (try? Wire.encode(body)) ?? [],
            timeoutMs: Self.requestTimeoutMs)
        let started = ContinuousClock.now
        do {
            let response = try await client.execute(request)
            let latency = Bench.seconds(ContinuousClock.now - started) * 1000
            guard response.status == 202, let answer = try? Wire.decode(SubmitAnswer.self, from: response.body) else {
                return Submission(id: nil, latencyMs: latency, error: "HTTP \(response.status): \(response.bodyText.prefix(300))")
            }
            return Submission(id: answer.id, latencyMs: latency, error: nil)
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
            let view = try? Wire.decode(JobAnswer.self, from: response.body)
        else { return nil }
        var endToEnd: Double?
        if let created = view.createdAtMs, let completed = view.completedAtMs { endToEnd = Double(completed - created) }
        return JobPoll(status: view.status, endToEndMs: endToEnd, seenAt: ContinuousClock.now)
    }
}

// MARK: - Wire types

extension BenchAPI {
    private struct SubmitBody: Encodable {
        struct Message: Encodable {
            var role: String
            var content: String
        }

        var model: String
        var messages: [Message]
        var priority: String?
    }

    private struct SubmitAnswer: Decodable {
        var id: String
    }

    private struct JobAnswer: Decodable {
        var status: String
        var createdAtMs: Int64?
        var completedAtMs: Int64?

        enum CodingKeys: String, CodingKey {
            case status, createdAtMs = "created_at_ms", completedAtMs = "completed_at_ms"
        }
    }
}
