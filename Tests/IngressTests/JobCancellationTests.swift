import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Ingress
import Kafka
import Logging
import SluiceCore
import Testing

/// A ledger that knows a fixed set of jobs.
struct FixedLedger: JobLookup {
    var jobs: [JobView]
    func job(id: String, tenant: String) async throws -> JobView? { jobs.first { $0.id == id && $0.tenant == tenant } }
    func idempotencyBinding(tenant: String, key: String) async throws -> IdempotencyBinding? { nil }
}

/// The answers of `POST /v1/jobs/{id}/cancel` that need no broker: every one of them is decided
/// before anything is produced (the producer here points at a closed port).
@Suite("Job cancellation over HTTP")
struct JobCancellationTests {
    static let queued = JobView(id: UUIDv7.generate(), tenant: "acme", status: .queued, model: "demo", priority: .p1, attempts: 0, createdAtMs: 1)
    static let finished = JobView(id: UUIDv7.generate(), tenant: "acme", status: .succeeded, model: "demo", priority: .p1, attempts: 1, createdAtMs: 1)

    static func app() throws -> some ApplicationProtocol {
        var producerConfiguration = KafkaProducerConfiguration(bootstrapServers: "127.0.0.1:1")
        producerConfiguration.messageTimeoutMs = 1_000
        let producer = try KafkaProducer(configuration: producerConfiguration, logger: Logger(label: "test"))
        let service = try IngressService(
            configuration: IngressConfiguration(retryAfterSeconds: 2), tenants: JobSubmissionTests.tenants, models: ["demo"],
            enqueuer: JobEnqueuer(producer: producer, topics: TopicCatalog(prefix: "tcancel")),
            jobs: FixedLedger(jobs: [queued, finished]), logger: Logger(label: "test"))
        return Application(router: service.buildRouter())
    }

    static func cancel(_ id: String, key: String?, expect status: HTTPResponse.Status, code: String) async throws {
        try await app().test(.router) { client in
            var headers: HTTPFields = [:]
            if let key { headers[.authorization] = "Bearer \(key)" }
            try await client.execute(uri: "/v1/jobs/\(id)/cancel", method: .post, headers: headers) { response in
                #expect(response.status == status)
                let body = try JSONValue.parse(Array(response.body.readableBytesView))
                #expect(body["error"]?["code"]?.stringValue == code)
            }
        }
    }

    @Test("another tenant's job is 404, exactly like a missing one")
    func otherTenant() async throws {
        try await Self.cancel(Self.queued.id, key: "sk-sluice-globex", expect: .notFound, code: "job_not_found")
        try await Self.cancel(UUIDv7.generate(), key: "sk-sluice-acme", expect: .notFound, code: "job_not_found")
        try await Self.cancel("not-a-job-id", key: "sk-sluice-acme", expect: .notFound, code: "job_not_found")
    }

    @Test("a finished job is 409 and names its status")
    func finished() async throws {
        try await Self.cancel(Self.finished.id, key: "sk-sluice-acme", expect: .conflict, code: "job_finished")
    }

    @Test("no key is 401; an auditor may not cancel")
    func authentication() async throws {
        try await Self.cancel(Self.queued.id, key: nil, expect: .unauthorized, code: "missing_api_key")
        try await Self.cancel(Self.queued.id, key: "sk-sluice-auditor", expect: .forbidden, code: "forbidden")
    }

    @Test("Kafka unreachable: 503 with Retry-After, not a half-done cancel")
    func brokerDown() async throws {
        try await Self.app().test(.router) { client in
            try await client.execute(
                uri: "/v1/jobs/\(Self.queued.id)/cancel", method: .post, headers: [.authorization: "Bearer sk-sluice-acme"]
            ) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.retryAfter] == "2")
            }
        }
    }
}
