import Foundation
import Ledger
import SluiceCore
import Testing

/// `webhook.attempt` audit events become delivery and attempt rows; endpoints are stored per tenant.
@Suite("Webhook deliveries in the ledger")
struct WebhookLedgerTests {
    static func attempt(_ n: Int, outcome: String, status: Int? = nil, tenant: String = "acme", endpoint: String = "job") -> LedgerRecord {
        var detail: [String: JSONValue] = [
            "delivery_id": "msg_1", "url": "https://hooks.example/h", "endpoint_id": .string(endpoint), "event_type": "job.succeeded",
            "outcome": .string(outcome), "duration_ms": 12, "created_at_ms": 1_000,
        ]
        if n == 1 { detail["payload"] = #"{"type":"job.succeeded"}"# }
        if let status { detail["status_code"] = .int(Int64(status)) }
        return .audit(AuditEvent(
            id: "wa-\(n)", type: AuditEventType(rawValue: "webhook.attempt"), tenant: tenant, jobID: "job-1", attempt: n,
            atMs: 1_000 + Int64(n), actor: "webhooks", detail: .object(detail)))
    }

    @Test("attempts accumulate on one delivery, in any order of arrival, and a redelivered event changes nothing")
    func attempts() async throws {
        let ledger = try TemporaryLedger()
        try ledger.store.apply([Self.attempt(2, outcome: "delivered", status: 204), Self.attempt(1, outcome: "retrying", status: 500)])
        try ledger.store.apply([Self.attempt(1, outcome: "retrying", status: 500)])
        let delivery = try #require(try await ledger.store.delivery(id: "msg_1", tenant: "acme"))
        #expect(delivery.status == "delivered")
        #expect(delivery.attempts.map(\.attempt) == [1, 2])
        #expect(delivery.attempts.map(\.statusCode) == [500, 204])
        #expect(delivery.payload == #"{"type":"job.succeeded"}"#)
        #expect(try await ledger.store.delivery(id: "msg_1", tenant: "other") == nil, "another tenant's delivery is not found")
        let list = try await ledger.store.deliveries(tenant: "acme", subjectID: "job-1", limit: 10, beforeMs: nil)
        #expect(list.count == 1 && list[0].payload == nil)
    }

    @Test("endpoints are the tenant's own; a 410 attempt disables one")
    func endpoints() async throws {
        let ledger = try TemporaryLedger()
        let secret = WebhookSecret.generate()
        try await ledger.store.register(WebhookEndpoint(id: "we_1", tenant: "acme", url: "https://a.example/h", secrets: [secret]), createdAtMs: 1)
        try await ledger.store.register(WebhookEndpoint(id: "we_2", tenant: "zeta", url: "https://z.example/h", secrets: [secret]), createdAtMs: 2)
        let own = try await ledger.store.registeredEndpoints(tenant: "acme")
        #expect(own.map(\.id) == ["we_1"])
        #expect(own.first?.secrets == [secret])
        try ledger.store.apply([Self.attempt(1, outcome: "endpoint_disabled", status: 410, endpoint: "we_1")])
        #expect(try await ledger.store.registeredEndpoints(tenant: "acme").first?.disabled == true)
        #expect(try await ledger.store.deleteEndpoint(id: "we_2", tenant: "acme") == false)
        #expect(try await ledger.store.deleteEndpoint(id: "we_1", tenant: "acme") == true)
    }
}
