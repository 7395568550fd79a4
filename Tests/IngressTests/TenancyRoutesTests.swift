import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Ingress
import Kafka
import Logging
import SluiceCore
import Testing

/// Tenant policy at the ingress without a ledger: priority, the request rate, sub-keys, and the
/// hostile-input limits. The ledger-backed parts (stored keys, budgets) run end to end in
/// `TenancyEndToEndTests`.
@Suite("Tenancy at the ingress")
struct TenancyRoutesTests {
    static let body = #"{"model":"demo","messages":[{"role":"user","content":"hi"}]}"#

    static func app(
        tenants: [TenantConfiguration], bootstrap: String = "127.0.0.1:1", topics: TopicCatalog = TopicCatalog(prefix: "t\(UUID().uuidString.prefix(8).lowercased())"),
        configuration: IngressConfiguration = IngressConfiguration()
    ) throws -> some ApplicationProtocol {
        var producerConfiguration = KafkaProducerConfiguration(bootstrapServers: bootstrap)
        producerConfiguration.messageTimeoutMs = 3_000
        let producer = try KafkaProducer(configuration: producerConfiguration, logger: Logger(label: "test"))
        let service = try IngressService(
            configuration: configuration, tenants: tenants, models: ["demo"],
            enqueuer: JobEnqueuer(producer: producer, topics: topics), jobs: EmptyLedger(), logger: Logger(label: "test"))
        return Application(router: service.buildRouter())
    }

    static func headers(_ key: String) -> HTTPFields {
        [.authorization: "Bearer \(key)", .contentType: "application/json"]
    }

    @Test("p0 from a tenant not allowed it is a 403 naming 'priority'; an allowed tenant passes that check")
    func priority() async throws {
        let tenants = [
            TenantConfiguration(id: "acme", keys: [APIKeyConfiguration(key: "sk-sluice-acme")]),
            TenantConfiguration(id: "vip", keys: [APIKeyConfiguration(key: "sk-sluice-vip")], allowP0: true),
        ]
        let p0 = #"{"model":"demo","priority":"p0","messages":[{"role":"user","content":"hi"}]}"#
        try await Self.app(tenants: tenants).test(.router) { client in
            try await client.execute(uri: "/v1/jobs", method: .post, headers: Self.headers("sk-sluice-acme"), body: ByteBuffer(string: p0)) { response in
                #expect(response.status == .forbidden)
                let json = try JSONValue.parse(response.body.readableBytesView)
                #expect(json["error"]?["param"]?.stringValue == "priority")
                #expect(json["error"]?["code"]?.stringValue == "priority_not_allowed")
            }
            // The broker is unreachable: an admitted job ends in 503, never 403.
            try await client.execute(uri: "/v1/jobs", method: .post, headers: Self.headers("sk-sluice-vip"), body: ByteBuffer(string: p0)) { response in
                #expect(response.status == .serviceUnavailable)
            }
        }
    }

    @Test("a burst beyond requests_per_second is refused with 429 and Retry-After before anything is queued")
    func rateLimit() async throws {
        let tenants = [
            TenantConfiguration(
                id: "acme", keys: [APIKeyConfiguration(key: "sk-sluice-acme")],
                limits: TenantLimits(requestsPerSecond: 0.01, burst: 2)),
            TenantConfiguration(id: "globex", keys: [APIKeyConfiguration(key: "sk-sluice-globex")]),
        ]
        try await Self.app(tenants: tenants).test(.router) { client in
            var statuses: [UInt] = []
            for _ in 0..<5 {
                try await client.execute(uri: "/v1/jobs", method: .post, headers: Self.headers("sk-sluice-acme"), body: ByteBuffer(string: Self.body)) { response in
                    statuses.append(UInt(response.status.code))
                    if response.status == .tooManyRequests {
                        let retryAfter = try #require(response.headers[.retryAfter].flatMap { Int($0) })
                        #expect(retryAfter >= 1)
                        let json = try JSONValue.parse(response.body.readableBytesView)
                        #expect(json["error"]?["code"]?.stringValue == "rate_limited")
                    }
                }
            }
            // Two admitted (then 503: no broker), three refused at once.
            #expect(statuses == [503, 503, 429, 429, 429])
            // Another tenant is not slowed by acme's limit.
            try await client.execute(uri: "/v1/jobs", method: .post, headers: Self.headers("sk-sluice-globex"), body: ByteBuffer(string: Self.body)) { response in
                #expect(response.status == .serviceUnavailable)
            }
        }
    }

    @Test("too many messages, too long a string and too deep a body are 400s naming the field")
    func hostileShapes() async throws {
        var configuration = IngressConfiguration()
        configuration.maxMessages = 3
        configuration.maxStringBytes = 64
        configuration.maxJSONDepth = 6
        let tenants = [TenantConfiguration(id: "acme", keys: [APIKeyConfiguration(key: "sk-sluice-acme")])]
        let message = #"{"role":"user","content":"hi"}"#
        let cases: [(body: String, code: String, param: String)] = [
            (#"{"model":"demo","messages":[\#(Array(repeating: message, count: 4).joined(separator: ","))]}"#, "too_many_items", "messages"),
            (#"{"model":"demo","messages":[{"role":"user","content":"\#(String(repeating: "é", count: 40))"}]}"#, "string_too_long", "messages[0].content"),
            (#"{"model":"demo","metadata":{"a":{"b":{"c":{"d":{"e":{}}}}}},"messages":[\#(message)]}"#, "too_deep", "metadata.a.b.c.d.e"),
            (#"{"model":"demo","model":"demo","messages":[\#(message)]}"#, "invalid_json", "model"),
        ]
        try await Self.app(tenants: tenants, configuration: configuration).test(.router) { client in
            for c in cases {
                try await client.execute(uri: "/v1/jobs", method: .post, headers: Self.headers("sk-sluice-acme"), body: ByteBuffer(string: c.body)) { response in
                    #expect(response.status == .badRequest, "\(c.code)")
                    let json = try JSONValue.parse(response.body.readableBytesView)
                    #expect(json["error"]?["code"]?.stringValue == c.code)
                    #expect(json["error"]?["param"]?.stringValue == c.param)
                }
            }
            // Not UTF-8: a 400, not a crash.
            var bytes = Array(#"{"model":"demo","messages":[{"role":"user","content":"x"#.utf8)
            bytes += [0xC3, 0x28]
            bytes += Array(#""}]}"#.utf8)
            try await client.execute(uri: "/v1/jobs", method: .post, headers: Self.headers("sk-sluice-acme"), body: ByteBuffer(bytes: bytes)) { response in
                #expect(response.status == .badRequest)
                let json = try JSONValue.parse(response.body.readableBytesView)
                #expect(json["error"]?["param"]?.stringValue == "messages[0].content")
            }
        }
    }

    @Test("/openapi.json is an OpenAPI 3.1 document naming every route")
    func openAPI() async throws {
        let tenants = [TenantConfiguration(id: "acme", keys: [APIKeyConfiguration(key: "sk-sluice-acme")])]
        try await Self.app(tenants: tenants).test(.router) { client in
            try await client.execute(uri: "/openapi.json", method: .get) { response in
                #expect(response.status == .ok)
                let json = try JSONValue.parse(response.body.readableBytesView)
                #expect(json["openapi"]?.stringValue == "3.1.0")
                let paths = Set(json["paths"]?.objectValue?.keys ?? [:].keys)
                for path in ["/v1/jobs", "/v1/jobs/{id}", "/v1/jobs/{id}/cancel", "/v1/audit/events", "/v1/admin/keys", "/healthz"] {
                    #expect(paths.contains(path), "\(path)")
                }
            }
        }
    }

    @Test(
        "a tenant with 4 sub-keys spreads its jobs over several partitions; every record still names the tenant",
        .timeLimit(.minutes(1)), .enabled(if: ProcessInfo.processInfo.environment["SLUICE_TEST_BOOTSTRAP"] != nil, "run with `make test`"))
    func subKeys() async throws {
        let bootstrap = try #require(ProcessInfo.processInfo.environment["SLUICE_TEST_BOOTSTRAP"])
        let topics = TopicCatalog(prefix: "t\(UUID().uuidString.prefix(8).lowercased())")
        _ = try await KafkaAdmin.createTopics(
            [.init(name: topics.jobs(.p1), partitions: 8), .init(name: topics.audit, partitions: 2)], bootstrapServers: bootstrap)
        let tenants = [TenantConfiguration(id: "bulk", keys: [APIKeyConfiguration(key: "sk-sluice-bulk")], subKeys: 4)]
        try await Self.app(tenants: tenants, bootstrap: bootstrap, topics: topics).test(.router) { client in
            for _ in 0..<24 {
                try await client.execute(uri: "/v1/jobs", method: .post, headers: Self.headers("sk-sluice-bulk"), body: ByteBuffer(string: Self.body)) { response in
                    #expect(response.status == .accepted)
                }
            }
        }
        var configuration = KafkaTopicReader.Configuration(bootstrapServers: bootstrap, topics: [topics.jobs(.p1)])
        configuration.groupID = "\(topics.prefix)-reader"
        let reader = try KafkaTopicReader(configuration: configuration, logger: Logger(label: "test"))
        try await reader.start()
        var partitions = Set<Int32>()
        var keys = Set<String>()
        var records = 0
        let deadline = ContinuousClock.now + .seconds(30)
        while records < 24, ContinuousClock.now < deadline {
            guard let message = try reader.poll() else {
                try await Task.sleep(for: .milliseconds(50))
                continue
            }
            records += 1
            partitions.insert(message.partition)
            keys.insert(String(decoding: message.key ?? [], as: UTF8.self))
            let tenant = message.headers.first { $0.key == RecordHeader.tenant }.map { String(decoding: $0.value, as: UTF8.self) }
            #expect(tenant == "bulk")
            let job = try JobEnvelope(json: JSONValue.parse(message.value))
            #expect(job.tenant == "bulk")
        }
        await reader.close()
        #expect(records == 24)
        #expect(keys == ["bulk#0", "bulk#1", "bulk#2", "bulk#3"])
        #expect(partitions.count >= 2, "4 keys over 8 partitions landed on \(partitions.count)")
    }
}
