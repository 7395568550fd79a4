import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Ingress
import Kafka
import Logging
import SluiceCore
import Testing

/// `POST /v1/chat/completions` and the webhook URL check at submit, in process. The producer
/// points at an address nothing listens on: no request here may be queued.
@Suite("Sync completions and webhook URLs over HTTP")
struct SyncAndWebhookRoutesTests {
    static let tenants = [
        TenantConfiguration(id: "acme", keys: [APIKeyConfiguration(key: "sk-sluice-acme")]),
        TenantConfiguration(id: "nosecret", keys: [APIKeyConfiguration(key: "sk-sluice-nosecret")]),
    ]

    static func app() throws -> some ApplicationProtocol {
        var producerConfiguration = KafkaProducerConfiguration(bootstrapServers: "127.0.0.1:1")
        producerConfiguration.messageTimeoutMs = 1_500
        let producer = try KafkaProducer(configuration: producerConfiguration, logger: Logger(label: "test"))
        let topics = TopicCatalog(prefix: "t\(UUID().uuidString.prefix(8).lowercased())")
        var service = try IngressService(
            configuration: IngressConfiguration(produceTimeoutMs: 1_500), tenants: tenants, models: ["demo"],
            enqueuer: JobEnqueuer(producer: producer, topics: topics), jobs: EmptyLedger(), logger: Logger(label: "test"))
        service.webhooks = WebhookIngressSettings(
            policy: WebhookURLPolicy(rules: .init(), resolver: .table(["hooks.test": ["93.184.215.14"], "inside.test": ["10.1.2.3"]])),
            signingTenants: ["acme"], registry: nil, producer: nil, topics: topics)
        return Application(router: service.buildRouter())
    }

    static func post(_ client: some TestClientProtocol, _ uri: String, key: String = "sk-sluice-acme", _ body: String) async throws -> (Int, JSONValue?) {
        let headers: HTTPFields = [.contentType: "application/json", .authorization: "Bearer \(key)"]
        return try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body)) { response in
            (Int(response.status.code), try? JSONDecoder().decode(JSONValue.self, from: Data(response.body.readableBytesView)))
        }
    }

    @Test("stream: true is a 400 naming stream")
    func streamRefused() async throws {
        try await Self.app().test(.router) { client in
            let (status, json) = try await Self.post(
                client, "/v1/chat/completions", #"{"model":"demo","stream":true,"messages":[{"role":"user","content":"hi"}]}"#)
            #expect(status == 400)
            #expect(json?["error"]?["param"]?.stringValue == "stream")
        }
    }

    @Test("with Kafka unreachable the sync call answers 503 queue_unavailable, not a hang")
    func brokerDown() async throws {
        try await Self.app().test(.router) { client in
            let (status, json) = try await Self.post(client, "/v1/chat/completions", #"{"model":"demo","messages":[{"role":"user","content":"hi"}]}"#)
            #expect(status == 503)
            #expect(json?["error"]?["code"]?.stringValue == "queue_unavailable")
        }
    }

    @Test("a job's webhook URL at a private address, over http, or of a tenant without a secret is a 400 naming webhook.url", arguments: [
        ("https://10.0.0.1/h", "sk-sluice-acme"), ("https://inside.test/h", "sk-sluice-acme"), ("https://[::1]/h", "sk-sluice-acme"),
        ("https://169.254.169.254/", "sk-sluice-acme"), ("http://hooks.test/h", "sk-sluice-acme"), ("https://hooks.test/h", "sk-sluice-nosecret"),
    ])
    func webhookRefused(_ url: String, _ key: String) async throws {
        try await Self.app().test(.router) { client in
            let body = #"{"model":"demo","messages":[{"role":"user","content":"hi"}],"webhook":{"url":"\#(url)"}}"#
            for uri in ["/v1/jobs", "/v1/chat/completions"] {
                let (status, json) = try await Self.post(client, uri, key: key, body)
                #expect(status == 400, "\(uri) \(url): \(String(describing: json))")
                #expect(json?["error"]?["param"]?.stringValue == "webhook.url")
            }
        }
    }

    @Test("a public https webhook URL passes the check and reaches the queue (503 here: no broker)")
    func webhookAccepted() async throws {
        try await Self.app().test(.router) { client in
            let body = #"{"model":"demo","messages":[{"role":"user","content":"hi"}],"webhook":{"url":"https://hooks.test/h"}}"#
            let (status, _) = try await Self.post(client, "/v1/jobs", body)
            #expect(status == 503)
        }
    }
}
