import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Ingress
import Kafka
import Logging
import SluiceCore
import Synchronization
import Testing

@Suite("Status page routes")
struct StatusRoutesTests {
    static let tenants = JobSubmissionTests.tenants + [
        TenantConfiguration(id: "ops", keys: [APIKeyConfiguration(key: "sk-sluice-admin", role: "admin")])
    ]

    static func app(_ operations: IngressOperations) throws -> some ApplicationProtocol {
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: "127.0.0.1:1"), logger: Logger(label: "test"))
        let service = try IngressService(
            configuration: IngressConfiguration(), tenants: tenants, models: ["demo"],
            enqueuer: JobEnqueuer(producer: producer, topics: TopicCatalog(prefix: "tstatus")),
            jobs: EmptyLedger(), logger: Logger(label: "test"), operations: operations)
        return Application(router: service.buildRouter())
    }

    /// Figures as the executable's board makes them, with a hostile tenant name and error text.
    static let figures: JSONValue = [
        "role": "serve", "instance": "host:1",
        "totals": ["accepted": 12, "finished": 10, "failed": 1, "backlog": 2],
        "history": [
            ["at_ms": 1, "backlog": 0, "accepted_per_s": 0, "finished_per_s": 0, "failed_per_s": 0],
            ["at_ms": 2, "backlog": 7, "accepted_per_s": 12, "finished_per_s": 3, "failed_per_s": 0],
            ["at_ms": 3, "backlog": 2, "accepted_per_s": 0, "finished_per_s": .double(7.5), "failed_per_s": 1],
        ],
        "latency_seconds": ["end_to_end": ["p50": .double(0.25), "p90": .double(1.5), "p99": 2, "samples": 10]],
        "tenants": [["tenant": "<script>alert(1)</script>", "succeeded": 9, "failed": 1, "total_tokens": 1234, "cost": ["USD": .double(0.0123)]]],
        "deployments": [["label": "stub", "provider": "stub", "model": "m", "breaker": "open", "in_flight": 0]],
        "recent_failures": [["job_id": "j1", "tenant": "acme", "model": "demo", "code": "server_error", "message": "<b>boom</b>"]],
        "dlq": ["size": 3, "capped": false],
        "ledger_window": 10,
    ]

    @Test("GET / renders charts with the history's points, tables, and escapes every string from the figures")
    func page() async throws {
        let operations = IngressOperations(status: { Self.figures })
        try await Self.app(operations).test(.router) { client in
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
                let html = String(buffer: response.body)
                #expect(html.contains(#"data-chart="backlog" data-points="3" data-max="7""#))
                #expect(html.contains(#"data-chart="throughput" data-points="3" data-max="12""#))
                #expect(html.contains(#"<polyline data-series="finished_per_s" data-max="7.5""#))
                #expect(!html.contains("<script>alert(1)</script>"), "a tenant name is text, not markup")
                #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
                #expect(html.contains("&lt;b&gt;boom&lt;/b&gt;"))
                #expect(html.contains(#"data-breaker="open""#))
                #expect(html.contains(#"<strong id="dlq-size">3</strong>"#))
                #expect(!html.contains("<script src") && !html.contains("<link"), "nothing is loaded from elsewhere")
            }
            try await client.execute(uri: "/v1/status", method: .get) { response in
                #expect(response.status == .ok)
                let parsed = try JSONValue.parse(Array(response.body.readableBytesView))
                #expect(parsed == Self.figures)
            }
        }
    }

    @Test("POST /v1/admin/dlq/replay: 401 without a key, 403 for submitter and auditor keys, the replay's answer for an admin")
    func replayNeedsAdmin() async throws {
        let actors = Mutex<[String]>([])
        var operations = IngressOperations(status: { [:] })
        operations.replayDeadLetters = { actor in
            actors.withLock { $0.append(actor) }
            return ["replayed": 2, "skipped": 0, "job_ids": ["a", "b"]]
        }
        try await Self.app(operations).test(.router) { client in
            try await client.execute(uri: "/v1/admin/dlq/replay", method: .post) { response in
                #expect(response.status == .unauthorized)
            }
            for key in ["sk-sluice-acme", "sk-sluice-auditor"] {
                try await client.execute(uri: "/v1/admin/dlq/replay", method: .post, headers: [.authorization: "Bearer \(key)"]) { response in
                    #expect(response.status == .forbidden)
                }
            }
            #expect(actors.withLock { $0 }.isEmpty, "nothing replayed for a refused request")
            try await client.execute(uri: "/v1/admin/dlq/replay", method: .post, headers: [.authorization: "Bearer sk-sluice-admin"]) { response in
                #expect(response.status == .ok)
                let body = try JSONValue.parse(Array(response.body.readableBytesView))
                #expect(body["replayed"] == .int(2))
            }
        }
        #expect(actors.withLock { $0 } == ["admin:ops@status-page"])
    }

    @Test("a failing replay is a 503 with Retry-After, not a 500")
    func replayFailure() async throws {
        struct Down: Error {}
        var operations = IngressOperations(status: { [:] })
        operations.replayDeadLetters = { _ in throw Down() }
        try await Self.app(operations).test(.router) { client in
            try await client.execute(uri: "/v1/admin/dlq/replay", method: .post, headers: [.authorization: "Bearer sk-sluice-admin"]) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.retryAfter] == "5")
            }
        }
    }

    @Test("the ingress service describes itself without its API keys (swift-service-lifecycle logs it)")
    func describedWithoutKeys() throws {
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: "127.0.0.1:1"), logger: Logger(label: "test"))
        let service = try IngressService(
            configuration: IngressConfiguration(), tenants: Self.tenants, models: ["demo"],
            enqueuer: JobEnqueuer(producer: producer, topics: TopicCatalog(prefix: "tstatus")),
            jobs: EmptyLedger(), logger: Logger(label: "test"))
        for text in [String(describing: service), String(reflecting: service)] {
            #expect(!text.contains("sk-sluice-"), "\(text)")
        }
    }

    @Test("without a status source there is no page")
    func absent() async throws {
        try await Self.app(IngressOperations()).test(.router) { client in
            try await client.execute(uri: "/", method: .get) { response in #expect(response.status == .notFound) }
            try await client.execute(uri: "/v1/status", method: .get) { response in #expect(response.status == .notFound) }
        }
    }
}
