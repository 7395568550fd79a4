import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Ingress
import Kafka
import Logging
import SluiceCore
import Testing

@Suite("Operations endpoints")
struct OperationsEndpointTests {
    static func app(_ operations: IngressOperations) throws -> some ApplicationProtocol {
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: "127.0.0.1:1"), logger: Logger(label: "test"))
        let service = try IngressService(
            configuration: IngressConfiguration(), tenants: JobSubmissionTests.tenants, models: ["demo"],
            enqueuer: JobEnqueuer(producer: producer, topics: TopicCatalog(prefix: "tops")),
            jobs: EmptyLedger(), logger: Logger(label: "test"), operations: operations)
        return Application(router: service.buildRouter())
    }

    @Test("/readyz is 503 naming the failing check, and 200 when all pass; /healthz is 200 either way")
    func readiness() async throws {
        let failing = ReadinessChecks()
        failing.add(ReadinessCheck(name: "broker") { "no broker answered" })
        failing.add(ReadinessCheck(name: "ledger") { nil })
        try await Self.app(IngressOperations(readiness: failing)).test(.router) { client in
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let body = try JSONValue.parse(Array(response.body.readableBytesView))
                #expect(body["status"]?.stringValue == "not_ready")
                let checks = body["checks"]?.arrayValue ?? []
                #expect(checks.count == 2)
                #expect(checks.first?["name"]?.stringValue == "broker")
                #expect(checks.first?["ok"] == .bool(false))
                #expect(checks.first?["error"]?.stringValue == "no broker answered")
                #expect(checks.last?["ok"] == .bool(true))
            }
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
        let passing = ReadinessChecks()
        passing.add(ReadinessCheck(name: "broker") { nil })
        try await Self.app(IngressOperations(readiness: passing)).test(.router) { client in
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .ok)
                let body = try JSONValue.parse(Array(response.body.readableBytesView))
                #expect(body["status"]?.stringValue == "ready")
            }
        }
    }

    @Test("/metrics answers the text it is given as text/plain, and is absent without a backend")
    func metricsRoute() async throws {
        let operations = IngressOperations(metrics: { Array("# TYPE x counter\nx 1\n".utf8) })
        try await Self.app(operations).test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
                #expect(String(buffer: response.body) == "# TYPE x counter\nx 1\n")
            }
        }
        try await Self.app(IngressOperations()).test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
    }
}
