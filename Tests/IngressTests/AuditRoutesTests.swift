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

/// An audit log of two tenants that remembers what it was asked.
final class RecordingAuditReader: AuditReader {
    let queries = Mutex<[AuditQuery]>([])
    let verifiedTenants = Mutex<[String?]>([])

    static func event(_ tenant: String, seq: Int64) -> ChainedAuditEvent {
        ChainedAuditEvent(
            event: AuditEvent(type: .accepted, tenant: tenant, jobID: UUIDv7.generate(), attempt: 1, atMs: 1_000 + seq, actor: "ingress"),
            seq: seq, chainIndex: seq, payloadDigest: Array(repeating: 1, count: 32), prevHash: Array(repeating: 0, count: 32),
            hash: Array(repeating: 2, count: 32))
    }

    static let acmeEvent = event("acme", seq: 1)

    func auditEvents(_ query: AuditQuery) async throws -> AuditEventPage {
        queries.withLock { $0.append(query) }
        let all = [Self.acmeEvent, Self.event("globex", seq: 2)]
        return AuditEventPage(events: all.filter { query.tenants?.contains($0.event.tenant) ?? true }, nextCursor: nil)
    }

    func verifyAudit(tenant: String?, fromMs: Int64?, toMs: Int64?) async throws -> AuditVerification {
        verifiedTenants.withLock { $0.append(tenant) }
        return AuditVerification()
    }

    func auditProof(eventID: String) async throws -> AuditProofLookup {
        eventID == Self.acmeEvent.event.id ? .pending(tenant: "acme") : .notFound
    }

    func auditPublicKeys() async throws -> [AuditPublicKey] {
        [AuditPublicKey(keyID: "00112233aabbccdd", publicKey: Array(repeating: 5, count: 32), createdAtMs: 1)]
    }
}

/// Who may read `/v1/audit/*` and what each role sees (in process; the real ledger behind
/// these routes is covered by the end-to-end tests).
@Suite("Audit routes")
struct AuditRoutesTests {
    static let tenants = [
        TenantConfiguration(id: "acme", keys: [
            APIKeyConfiguration(key: "sk-acme"), APIKeyConfiguration(key: "sk-acme-auditor", role: "auditor"),
        ]),
        TenantConfiguration(id: "ops", keys: [APIKeyConfiguration(key: "sk-admin", role: "admin")]),
    ]

    static func app(_ reader: RecordingAuditReader) throws -> some ApplicationProtocol {
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: "127.0.0.1:1"), logger: Logger(label: "test"))
        var service = try IngressService(
            configuration: IngressConfiguration(), tenants: tenants, models: ["demo"],
            enqueuer: JobEnqueuer(producer: producer, topics: TopicCatalog(prefix: "taudit")),
            jobs: FixedLedger(jobs: []), logger: Logger(label: "test"))
        service.audit = reader
        return Application(router: service.buildRouter())
    }

    static func get(_ reader: RecordingAuditReader, _ uri: String, key: String?) async throws -> (HTTPResponse.Status, JSONValue) {
        try await app(reader).test(.router) { client in
            var headers: HTTPFields = [:]
            if let key { headers[.authorization] = "Bearer \(key)" }
            return try await client.execute(uri: uri, method: .get, headers: headers) { response in
                (response.status, (try? JSONValue.parse(Array(response.body.readableBytesView))) ?? .null)
            }
        }
    }

    @Test("a submitter gets 403 on every audit route; no key is 401; the public key needs none")
    func roles() async throws {
        let reader = RecordingAuditReader()
        for uri in ["/v1/audit/events", "/v1/audit/verify", "/v1/audit/events/\(RecordingAuditReader.acmeEvent.event.id)/proof"] {
            #expect(try await Self.get(reader, uri, key: "sk-acme").0 == .forbidden, "\(uri)")
            #expect(try await Self.get(reader, uri, key: nil).0 == .unauthorized, "\(uri)")
        }
        let (status, key) = try await Self.get(reader, "/v1/audit/public-key", key: nil)
        #expect(status == .ok)
        #expect(key["algorithm"] == "Ed25519" && key["public_key"]?.stringValue?.count == 64)
        #expect(reader.queries.withLock { $0.isEmpty }, "nothing was read for a refused request")
    }

    @Test("an auditor sees its own tenant only; an admin every tenant or the one it names")
    func tenantScope() async throws {
        let reader = RecordingAuditReader()
        let (status, page) = try await Self.get(reader, "/v1/audit/events?type=job.accepted&from=2026-01-01T00:00:00Z&to=5000&limit=10", key: "sk-acme-auditor")
        #expect(status == .ok)
        #expect(page["data"]?.arrayValue?.map { $0["tenant"]?.stringValue } == ["acme"])
        let asked = try #require(reader.queries.withLock { $0.last })
        #expect(asked.tenants == ["acme"] && asked.type == "job.accepted" && asked.toMs == 5_000 && asked.limit == 10)
        #expect(asked.fromMs == 1_767_225_600_000)
        #expect(try await Self.get(reader, "/v1/audit/events?tenant=globex", key: "sk-acme-auditor").0 == .forbidden)
        #expect(try await Self.get(reader, "/v1/audit/verify?tenant=globex", key: "sk-acme-auditor").0 == .forbidden)
        #expect(try await Self.get(reader, "/v1/audit/verify", key: "sk-acme-auditor").0 == .ok)

        #expect(try await Self.get(reader, "/v1/audit/events", key: "sk-admin").1["data"]?.arrayValue?.count == 2)
        #expect(reader.queries.withLock { $0.last?.tenants } == nil)
        #expect(try await Self.get(reader, "/v1/audit/events?tenant=globex", key: "sk-admin").1["data"]?.arrayValue?.count == 1)
        #expect(try await Self.get(reader, "/v1/audit/verify", key: "sk-admin").0 == .ok)
        #expect(reader.verifiedTenants.withLock { $0 } == ["acme", nil])
    }

    @Test("bad parameters are 400 naming the parameter, never 500")
    func badParameters() async throws {
        let reader = RecordingAuditReader()
        for (query, param) in [("from=yesterday", "from"), ("to=-5", "to"), ("limit=0", "limit"), ("limit=100000", "limit"), ("cursor=abc", "cursor"), ("from=99999999999999999999", "from")] {
            let (status, body) = try await Self.get(reader, "/v1/audit/events?\(query)", key: "sk-acme-auditor")
            #expect(status == .badRequest, "\(query)")
            #expect(body["error"]?["param"]?.stringValue == param, "\(query)")
        }
    }

    @Test("a proof of another tenant's event is 404; one not yet checkpointed is 409")
    func proofs() async throws {
        let reader = RecordingAuditReader()
        let id = RecordingAuditReader.acmeEvent.event.id
        let (status, body) = try await Self.get(reader, "/v1/audit/events/\(id)/proof", key: "sk-acme-auditor")
        #expect(status == .conflict && body["error"]?["code"] == "not_checkpointed")
        #expect(try await Self.get(reader, "/v1/audit/events/\(UUIDv7.generate())/proof", key: "sk-acme-auditor").0 == .notFound)
        #expect(try await Self.get(reader, "/v1/audit/events/\(id)/proof", key: "sk-admin").0 == .conflict)
    }
}
