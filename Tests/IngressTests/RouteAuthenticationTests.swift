import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Ingress
import Kafka
import Ledger
import Logging
import SluiceCore
import Testing

/// Authentication as middleware on every route group: each route the router holds, found by
/// enumerating it (so a route added later is checked too), answers 401 without a key unless
/// it is one of the few open ones; the Anthropic door also takes `x-api-key`.
///
/// The ingress is wired as `sluice serve` wires it, over a real ledger file: audit, admin,
/// files, batches, message batches, webhooks, sync completions and the status routes. The
/// producer points at an address nothing listens on: nothing here reaches Kafka.
@Suite("Authentication on every route group")
struct RouteAuthenticationTests {
    static let tenants = [
        TenantConfiguration(id: "acme", keys: [APIKeyConfiguration(key: "sk-sluice-acme")]),
        TenantConfiguration(id: "globex", keys: [APIKeyConfiguration(key: "sk-sluice-globex")]),
        TenantConfiguration(id: "audit", keys: [APIKeyConfiguration(key: "sk-sluice-auditor", role: "auditor", grants: ["acme"])]),
        TenantConfiguration(id: "ops", keys: [APIKeyConfiguration(key: "sk-sluice-admin", role: "admin")]),
    ]

    static let xAPIKey = HTTPField.Name("x-api-key")!

    /// The routes that need no key: probes, the document, the status page and the audit
    /// public key. Everything else must be behind ``AuthMiddleware``.
    static let open: Set<String> = [
        "GET /", "GET /healthz", "GET /readyz", "GET /metrics", "GET /openapi.json", "GET /v1/status", "GET /v1/audit/public-key",
    ]

    /// A fully wired ingress over a fresh ledger file in a fresh directory (removed by `done`).
    struct Wired {
        let service: IngressService
        let directory: String

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-auth-\(UUIDv7.generate())").path
            try FileManager.default.createDirectory(atPath: directory + "/files", withIntermediateDirectories: true)
            let store = try LedgerStore(path: directory + "/ledger.sqlite")
            var producerConfiguration = KafkaProducerConfiguration(bootstrapServers: "127.0.0.1:1")
            producerConfiguration.messageTimeoutMs = 1_500
            let producer = try KafkaProducer(configuration: producerConfiguration, logger: Logger(label: "test"))
            let topics = TopicCatalog(prefix: "t\(UUID().uuidString.prefix(8).lowercased())")
            let enqueuer = JobEnqueuer(producer: producer, topics: topics)
            var operations = IngressOperations(metrics: { Array("sluice_up 1\n".utf8) }, status: { ["role": "test"] })
            operations.replayDeadLetters = { _ in ["replayed": 0] }
            var service = try IngressService(
                configuration: IngressConfiguration(produceTimeoutMs: 1_500), tenants: RouteAuthenticationTests.tenants,
                models: ["demo"], enqueuer: enqueuer, jobs: store, logger: Logger(label: "test"), operations: operations,
                directory: store)
            service.audit = store
            service.webhooks = WebhookIngressSettings(
                policy: WebhookURLPolicy(rules: .init(), resolver: .table([:])), signingTenants: ["acme"], registry: store, producer: producer,
                topics: topics)
            service.batches = BatchService(
                store: store, enqueuer: enqueuer, configuration: BatchesConfiguration(), directory: directory + "/files",
                logger: Logger(label: "test"))
            self.service = service
        }

        func done() {
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    static func error(_ body: ByteBuffer) -> (type: String?, code: String?, message: String?) {
        let json = try? JSONValue.parse(body.readableBytesView)
        return (json?["error"]?["type"]?.stringValue, json?["error"]?["code"]?.stringValue, json?["error"]?["message"]?.stringValue)
    }

    @Test("every route outside the open few answers 401 without a key, and with an unknown one, before its handler runs")
    func everyGroupAuthenticates() async throws {
        let wired = try Wired()
        defer { wired.done() }
        let router = wired.service.buildRouter()
        let routes = router.routes.map { (method: $0.method, path: $0.path.description) }
        let guarded = routes.filter { !Self.open.contains("\($0.method) \($0.path)") }
        // The enumeration found the groups this test is about (a router that lost them would
        // make the loop below vacuous).
        for path in ["/v1/jobs", "/v1/files", "/v1/batches/{id}/cancel", "/v1/messages/batches/{id}/results", "/v1/webhooks/endpoints",
            "/v1/chat/completions", "/v1/audit/events", "/v1/admin/keys", "/v1/admin/dlq/replay"]
        {
            #expect(guarded.contains { $0.path == path }, "\(path) is not routed")
        }
        #expect(guarded.count >= 30, "\(guarded.map { "\($0.method) \($0.path)" })")
        try await Application(router: router).test(.router) { client in
            for route in guarded {
                let uri = route.path.replacingOccurrences(of: #"\{[^}]+\}"#, with: "nope", options: .regularExpression)
                let body = ByteBuffer(string: #"{"model":"demo","messages":[{"role":"user","content":"hi"}]}"#)
                try await client.execute(uri: uri, method: route.method, headers: [.contentType: "application/json"], body: body) { response in
                    #expect(response.status == .unauthorized, "\(route.method) \(uri) without a key: \(response.status)")
                    let error = Self.error(response.body)
                    #expect(error.type == "authentication_error" && error.code == "missing_api_key", "\(route.method) \(uri): \(error)")
                }
                let wrong: HTTPFields = [.contentType: "application/json", .authorization: "Bearer sk-sluice-nobody"]
                try await client.execute(uri: uri, method: route.method, headers: wrong, body: body) { response in
                    #expect(response.status == .unauthorized, "\(route.method) \(uri) with an unknown key: \(response.status)")
                    #expect(Self.error(response.body).code == "invalid_api_key", "\(route.method) \(uri)")
                }
            }
            // The open routes stay open.
            for path in ["/healthz", "/readyz", "/openapi.json", "/v1/status", "/", "/metrics"] {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status == .ok, "GET \(path): \(response.status)")
                }
            }
        }
    }

    @Test("the Anthropic door takes x-api-key as the Anthropic SDK sends it; the OpenAI doors take only Authorization")
    func anthropicAPIKeyHeader() async throws {
        let wired = try Wired()
        defer { wired.done() }
        try await Application(router: wired.service.buildRouter()).test(.router) { client in
            // Listing through x-api-key: the tenant's (empty) list, in Anthropic's list shape.
            try await client.execute(uri: "/v1/messages/batches", method: .get, headers: [Self.xAPIKey: "sk-sluice-acme"]) { response in
                #expect(response.status == .ok)
                let json = try JSONValue.parse(response.body.readableBytesView)
                #expect(json["data"]?.arrayValue?.isEmpty == true)
                #expect(json["has_more"] == .bool(false))
            }
            // No key at all: the 401 names both headers this door reads.
            try await client.execute(uri: "/v1/messages/batches", method: .get) { response in
                #expect(response.status == .unauthorized)
                let error = Self.error(response.body)
                #expect(error.code == "missing_api_key")
                #expect(error.message?.contains("x-api-key") == true, "\(error)")
            }
            try await client.execute(uri: "/v1/messages/batches", method: .get, headers: [Self.xAPIKey: "sk-sluice-wrong"]) { response in
                #expect(response.status == .unauthorized)
                #expect(Self.error(response.body).code == "invalid_api_key")
            }
            // Authorization wins over x-api-key when both are sent.
            let both: HTTPFields = [.authorization: "Bearer sk-sluice-wrong", Self.xAPIKey: "sk-sluice-acme"]
            try await client.execute(uri: "/v1/messages/batches", method: .get, headers: both) { response in
                #expect(response.status == .unauthorized)
            }
            // The OpenAI doors do not read x-api-key.
            for uri in ["/v1/batches", "/v1/files", "/v1/webhooks/endpoints"] {
                try await client.execute(uri: uri, method: .get, headers: [Self.xAPIKey: "sk-sluice-acme"]) { response in
                    #expect(response.status == .unauthorized, "\(uri)")
                    #expect(Self.error(response.body).message?.contains("x-api-key") == false, "\(uri)")
                }
            }
        }
    }

    @Test("behind the middleware, roles still hold and another tenant's message batch is a 404, not a 403")
    func rolesAndTenants() async throws {
        let wired = try Wired()
        defer { wired.done() }
        let create = #"{"requests":[{"custom_id":"a-1","params":{"model":"demo","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}}]}"#
        try await Application(router: wired.service.buildRouter()).test(.router) { client in
            try await client.execute(
                uri: "/v1/messages/batches", method: .post, headers: [Self.xAPIKey: "sk-sluice-auditor", .contentType: "application/json"],
                body: ByteBuffer(string: create)
            ) { response in
                #expect(response.status == .forbidden)
                #expect(Self.error(response.body).message?.contains("auditor") == true)
            }
            let id = try await client.execute(
                uri: "/v1/messages/batches", method: .post, headers: [Self.xAPIKey: "sk-sluice-acme", .contentType: "application/json"],
                body: ByteBuffer(string: create)
            ) { response in
                #expect(response.status == .ok)
                return try JSONValue.parse(response.body.readableBytesView)["id"]?.stringValue
            }
            let batchID = try #require(id)
            try await client.execute(uri: "/v1/messages/batches/\(batchID)", method: .get, headers: [Self.xAPIKey: "sk-sluice-acme"]) { response in
                #expect(response.status == .ok)
            }
            for key in ["sk-sluice-globex", "sk-sluice-admin"] {
                try await client.execute(uri: "/v1/messages/batches/\(batchID)", method: .get, headers: [Self.xAPIKey: key]) { response in
                    #expect(response.status == .notFound, "\(key)")
                }
                try await client.execute(uri: "/v1/messages/batches/\(batchID)/cancel", method: .post, headers: [.authorization: "Bearer \(key)"]) { response in
                    #expect(response.status == .notFound, "\(key)")
                }
            }
            // A submitter may not replay the DLQ; an admin may.
            try await client.execute(uri: "/v1/admin/dlq/replay", method: .post, headers: [.authorization: "Bearer sk-sluice-acme"]) { response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/v1/admin/dlq/replay", method: .post, headers: [.authorization: "Bearer sk-sluice-admin"]) { response in
                #expect(response.status == .ok)
            }
        }
    }

    static func bearer(_ key: String) -> HTTPFields { [.authorization: "Bearer \(key)", .contentType: "application/json"] }

    @Test("another tenant's files and OpenAI batches are 404s and absent from its lists; the owner sees them")
    func filesAndBatchesAreTheTenantsOwn() async throws {
        let wired = try Wired()
        defer { wired.done() }
        let boundary = "sluice-isolation"
        let line = #"{"custom_id":"r1","method":"POST","url":"/v1/chat/completions","body":{"model":"demo","messages":[{"role":"user","content":"hi"}]}}"#
        let upload = "--\(boundary)\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n"
            + "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in.jsonl\"\r\n"
            + "Content-Type: application/jsonl\r\n\r\n\(line)\n\r\n--\(boundary)--\r\n"
        try await Application(router: wired.service.buildRouter()).test(.router) { client in
            let fileID = try await client.execute(
                uri: "/v1/files", method: .post,
                headers: [.authorization: "Bearer sk-sluice-acme", .contentType: "multipart/form-data; boundary=\(boundary)"],
                body: ByteBuffer(string: upload)
            ) { response in
                #expect(response.status == .ok, "\(String(buffer: response.body))")
                return try JSONValue.parse(response.body.readableBytesView)["id"]?.stringValue
            }
            let file = try #require(fileID)
            let batchID = try await client.execute(
                uri: "/v1/batches", method: .post, headers: Self.bearer("sk-sluice-acme"),
                body: ByteBuffer(string: #"{"input_file_id":"\#(file)","endpoint":"/v1/chat/completions","completion_window":"24h"}"#)
            ) { response in
                #expect(response.status == .ok, "\(String(buffer: response.body))")
                return try JSONValue.parse(response.body.readableBytesView)["id"]?.stringValue
            }
            let batch = try #require(batchID)

            for (uri, method) in [
                ("/v1/files/\(file)", HTTPRequest.Method.get), ("/v1/files/\(file)/content", .get), ("/v1/files/\(file)", .delete),
                ("/v1/batches/\(batch)", .get), ("/v1/batches/\(batch)/cancel", .post),
            ] {
                try await client.execute(uri: uri, method: method, headers: Self.bearer("sk-sluice-globex")) { response in
                    #expect(response.status == .notFound, "\(method) \(uri) as another tenant")
                }
            }
            for uri in ["/v1/files", "/v1/batches"] {
                try await client.execute(uri: uri, method: .get, headers: Self.bearer("sk-sluice-globex")) { response in
                    #expect(response.status == .ok)
                    let listed = try JSONValue.parse(response.body.readableBytesView)
                    #expect(listed["data"]?.arrayValue?.isEmpty == true, "\(uri) lists another tenant's")
                }
            }
            // Still there for its owner: nothing above deleted or cancelled it.
            try await client.execute(uri: "/v1/files/\(file)", method: .get, headers: Self.bearer("sk-sluice-acme")) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/v1/batches/\(batch)", method: .get, headers: Self.bearer("sk-sluice-acme")) { response in
                #expect(response.status == .ok)
                let view = try JSONValue.parse(response.body.readableBytesView)
                #expect(view["status"]?.stringValue != "cancelling")
            }
            try await client.execute(uri: "/v1/batches", method: .get, headers: Self.bearer("sk-sluice-acme")) { response in
                let listed = try JSONValue.parse(response.body.readableBytesView)
                #expect(listed["data"]?.arrayValue?.count == 1)
            }
        }
    }
}
