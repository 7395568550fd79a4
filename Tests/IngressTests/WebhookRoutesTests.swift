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

/// A registry in memory, standing in for the ledger.
final class MemoryWebhookRegistry: WebhookRegistry {
    private let endpoints = Mutex<[WebhookEndpoint]>([])

    func register(_ endpoint: WebhookEndpoint, createdAtMs: Int64) async throws { endpoints.withLock { $0.append(endpoint) } }
    func registeredEndpoints(tenant: String) async throws -> [WebhookEndpoint] { endpoints.withLock { $0.filter { $0.tenant == tenant } } }
    func deleteEndpoint(id: String, tenant: String) async throws -> Bool {
        endpoints.withLock { list in
            let before = list.count
            list.removeAll { $0.id == id && $0.tenant == tenant }
            return list.count < before
        }
    }
    func deliveries(tenant: String, subjectID: String?, limit: Int, beforeMs: Int64?) async throws -> [WebhookDeliveryView] { [] }
    func delivery(id: String, tenant: String) async throws -> WebhookDeliveryView? { nil }
}

/// `/v1/webhooks/endpoints`: URLs checked by the policy, secrets shown once, tenants apart.
@Suite("Webhook endpoints over HTTP")
struct WebhookRoutesTests {
    static func app(registry: MemoryWebhookRegistry) throws -> some ApplicationProtocol {
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: "127.0.0.1:1"), logger: Logger(label: "test"))
        let topics = TopicCatalog(prefix: "t\(UUID().uuidString.prefix(8).lowercased())")
        var service = try IngressService(
            configuration: IngressConfiguration(), tenants: SyncAndWebhookRoutesTests.tenants, models: ["demo"],
            enqueuer: JobEnqueuer(producer: producer, topics: topics), jobs: EmptyLedger(), logger: Logger(label: "test"))
        service.webhooks = WebhookIngressSettings(
            policy: WebhookURLPolicy(rules: .init(), resolver: .table(["hooks.test": ["93.184.215.14"]])),
            signingTenants: ["acme"], registry: registry, producer: nil, topics: topics)
        return Application(router: service.buildRouter())
    }

    @Test("register, list without the secret, refuse a private URL, delete only one's own")
    func lifecycle() async throws {
        let registry = MemoryWebhookRegistry()
        try await Self.app(registry: registry).test(.router) { client in
            let (created, json) = try await SyncAndWebhookRoutesTests.post(
                client, "/v1/webhooks/endpoints", #"{"url":"https://hooks.test/in","events":["job.failed"]}"#)
            #expect(created == 201, "\(String(describing: json))")
            let id = try #require(json?["id"]?.stringValue)
            #expect(json?["secret"]?.stringValue.flatMap(WebhookSecret.init) != nil, "a whsec_ secret is returned once")

            let (refused, error) = try await SyncAndWebhookRoutesTests.post(client, "/v1/webhooks/endpoints", #"{"url":"https://169.254.169.254/"}"#)
            #expect(refused == 400)
            #expect(error?["error"]?["param"]?.stringValue == "url")
            let (badEvent, _) = try await SyncAndWebhookRoutesTests.post(client, "/v1/webhooks/endpoints", #"{"url":"https://hooks.test/x","events":["job.exploded"]}"#)
            #expect(badEvent == 400)

            let list = try await client.execute(
                uri: "/v1/webhooks/endpoints", method: .get, headers: [.authorization: "Bearer sk-sluice-acme"]
            ) { response in try JSONDecoder().decode(JSONValue.self, from: Data(response.body.readableBytesView)) }
            #expect(list["data"]?.arrayValue?.map { $0["id"]?.stringValue } == [id])
            #expect(list["data"]?.arrayValue?.first?["secret"] == nil, "the secret is never listed")

            let otherTenant = try await client.execute(
                uri: "/v1/webhooks/endpoints/\(id)", method: .delete, headers: [.authorization: "Bearer sk-sluice-nosecret"]
            ) { Int($0.status.code) }
            #expect(otherTenant == 404)
            let own = try await client.execute(
                uri: "/v1/webhooks/endpoints/\(id)", method: .delete, headers: [.authorization: "Bearer sk-sluice-acme"]
            ) { Int($0.status.code) }
            #expect(own == 200)
            #expect(try await registry.registeredEndpoints(tenant: "acme").isEmpty)
        }
    }
}
