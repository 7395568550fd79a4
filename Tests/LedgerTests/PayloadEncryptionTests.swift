import Foundation
import GRDB
import Ledger
import SluiceCore
import Testing

/// Payloads at rest: sealed per tenant, readable through the store, gone for good when the
/// tenant is erased, while the audit chain keeps verifying (issue test 4, crypto-shred part).
@Suite("Payload encryption and erasure")
struct PayloadEncryptionTests {
    static let masterKey = [UInt8](repeating: 7, count: 32)
    static let signer = try! AuditSigner(seed: Array(repeating: 9, count: 32))

    static func cipher(_ key: [UInt8] = masterKey) throws -> PayloadCipher { try PayloadCipher(masterKey: key) }

    static func rawResponses(_ path: String, tenant: String) throws -> [String?] {
        try DatabaseQueue(path: path).read { db in
            try String?.fetchAll(db, sql: "SELECT response FROM results WHERE tenant = ? ORDER BY job_id", arguments: [tenant])
        }
    }

    /// The assistant's text in a stored answer.
    static func content(_ view: JobView?) -> String? {
        view?.result?["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue
    }

    static func job(_ tenant: String, _ text: String) -> (records: [LedgerRecord], id: String) {
        let id = UUIDv7.generate()
        let response: JSONValue = ["choices": [["message": ["role": "assistant", "content": .string(text)]]]]
        return ([
            Fixture.accepted(id, tenant: tenant),
            .result(ResultEnvelope(
                jobID: id, tenant: tenant, attempt: 1, status: .succeeded, model: Fixture.model, response: response,
                startedAtMs: 2_000, finishedAtMs: 3_000)),
        ], id)
    }

    @Test("answers are sealed on disk, open through the store, and do not open under another master key")
    func sealedAtRest() async throws {
        let ledger = try TemporaryLedger(cipher: try Self.cipher())
        let a = Self.job("acme", "the secret plan of acme")
        try ledger.store.apply(a.records)

        let raw = try #require(try Self.rawResponses(ledger.path, tenant: "acme").first ?? nil)
        #expect(raw.hasPrefix("sealed1:"))
        #expect(!raw.contains("secret plan"))
        let view = try #require(try await ledger.store.job(id: a.id, tenant: "acme"))
        #expect(Self.content(view) == "the secret plan of acme")

        // A reader with the wrong master key gets a clear error, not garbage.
        let wrong = try LedgerStore(readOnlyPath: ledger.path, cipher: try Self.cipher(Array(repeating: 8, count: 32)))
        await #expect(throws: LedgerError.self) { _ = try await wrong.job(id: a.id, tenant: "acme") }
        // A reader without the key sees only the sealed form, never the plaintext.
        let keyless = try LedgerStore(readOnlyPath: ledger.path)
        await #expect(throws: LedgerError.self) { _ = try await keyless.job(id: a.id, tenant: "acme") }
    }

    @Test("registered webhook signing secrets are sealed on disk and open only under the master key")
    func webhookSecretsSealed() async throws {
        let ledger = try TemporaryLedger(cipher: try Self.cipher())
        let secret = WebhookSecret.generate()
        try await ledger.store.register(
            WebhookEndpoint(id: "we_1", tenant: "acme", url: "https://a.example/h", secrets: [secret]), createdAtMs: 1)
        let raw = try await DatabaseQueue(path: ledger.path).read { db in
            try String.fetchOne(db, sql: "SELECT secrets FROM webhook_endpoints WHERE id = 'we_1'")
        }
        #expect(raw?.hasPrefix("sealed1:") == true)
        #expect(raw?.contains(secret.text) == false && raw?.contains("whsec_") == false, "a signing secret is readable in the file")
        #expect(try await ledger.store.registeredEndpoints(tenant: "acme").first?.secrets == [secret])
        // Without the master key the endpoint is an error, never an endpoint without secrets.
        let keyless = try LedgerStore(readOnlyPath: ledger.path)
        await #expect(throws: LedgerError.self) { _ = try await keyless.registeredEndpoints(tenant: "acme") }
    }

    @Test("a sealed answer copied into another job's row does not open")
    func movedCiphertextFails() async throws {
        let ledger = try TemporaryLedger(cipher: try Self.cipher())
        let a = Self.job("acme", "first"), b = Self.job("acme", "second")
        try ledger.store.apply(a.records + b.records)
        try await DatabaseQueue(path: ledger.path).write { db in
            try db.execute(
                sql: "UPDATE results SET response = (SELECT response FROM results WHERE job_id = ?) WHERE job_id = ?",
                arguments: [a.id, b.id])
        }
        await #expect(throws: LedgerError.self) { _ = try await ledger.store.job(id: b.id, tenant: "acme") }
        #expect(try await ledger.store.job(id: a.id, tenant: "acme")?.result != nil)
    }

    @Test("answers stored before encryption was turned on stay readable")
    func plaintextRowsStayReadable() async throws {
        let plain = try TemporaryLedger()
        let a = Self.job("acme", "from before")
        try plain.store.apply(a.records)
        let sealing = try LedgerStore(path: plain.path, cipher: try Self.cipher())
        let view = try await sealing.job(id: a.id, tenant: "acme")
        #expect(Self.content(view) == "from before")
    }

    @Test("erasing a tenant shreds its key and payloads: the chain still verifies, skeletons stay, the other tenant is untouched")
    func eraseTenant() async throws {
        let ledger = try TemporaryLedger(cipher: try Self.cipher())
        try ledger.store.registerSigningKey(Self.signer)
        let a = Self.job("acme", "acme's words"), g = Self.job("globex", "globex's words")
        try ledger.store.apply(a.records + g.records + AuditChainTests.events(jobs: 3))
        try await ledger.store.checkpointIfDue(signer: Self.signer, policy: .always)
        let sealedBefore = try #require(try Self.rawResponses(ledger.path, tenant: "acme").first ?? nil)

        let erased = try ledger.store.eraseTenant("acme")
        #expect(erased.destroyedKey)
        #expect(erased.results == 1)
        #expect(erased.events == 1 + 9)
        #expect(try ledger.store.isErased("acme"))

        // The job and its events are still there as skeletons; the answer is gone.
        let view = try #require(try await ledger.store.job(id: a.id, tenant: "acme"))
        #expect(view.status == .succeeded && view.result == nil)
        let events = try await ledger.store.auditEvents(AuditQuery(tenants: ["acme"])).events
        #expect(events.count == 10 && events.allSatisfy { $0.payloadPurged && $0.event.detail == nil })
        #expect(try ledger.store.verifyAuditBlocking(tenant: nil, fromMs: nil, toMs: nil).ok)

        // A copy of the sealed answer taken before the erasure (a backup) no longer opens.
        try await DatabaseQueue(path: ledger.path).write { db in
            try db.execute(sql: "UPDATE results SET response = ? WHERE job_id = ?", arguments: [sealedBefore, a.id])
        }
        #expect(try await ledger.store.job(id: a.id, tenant: "acme")?.result == nil)

        // Later records of the erased tenant keep no payload; globex is untouched.
        let later = Self.job("acme", "said after erasure")
        try ledger.store.apply(later.records)
        #expect(try Self.rawResponses(ledger.path, tenant: "acme").allSatisfy { $0 == nil || $0 == sealedBefore })
        let globex = try await ledger.store.job(id: g.id, tenant: "globex")
        #expect(Self.content(globex) == "globex's words")
        #expect(try ledger.store.verifyAuditBlocking(tenant: nil, fromMs: nil, toMs: nil).ok)
    }

    @Test("the retention policy purges each tenant's payloads after its own period and keeps the chain verifiable")
    func retentionPolicy() async throws {
        let now: Int64 = 40 * 86_400_000
        let ledger = try TemporaryLedger(cipher: try Self.cipher(), clock: WallClock { now })
        // Events at_ms 1,000…: older than 30 days at `now`.
        try ledger.store.apply(AuditChainTests.events(jobs: 4))
        let policy = RetentionPolicy(defaultDays: 30, tenantDays: ["globex": 0])
        let purged = try await ledger.store.applyRetention(policy)
        #expect(purged["acme"]?.events == 12)
        #expect(purged["globex"] == nil)
        #expect(try await ledger.store.auditEvents(AuditQuery(tenants: ["globex"])).events.allSatisfy { !$0.payloadPurged })
        #expect(try ledger.store.verifyAuditBlocking(tenant: nil, fromMs: nil, toMs: nil).ok)
        // Nothing left to purge the second time.
        #expect(try await ledger.store.applyRetention(policy).isEmpty)
    }
}

/// Issue 9: usage and cost per tenant, by day, model and key, from the results.
@Suite("Usage reports")
struct UsageReportTests {
    static func job(_ tenant: String, model: String, keyID: String?, finishedAtMs: Int64, tokens: (Int, Int), cost: Double?) -> [LedgerRecord] {
        let id = UUIDv7.generate()
        var detail: [String: JSONValue] = ["model": .string(model), "priority": "p1"]
        if let keyID { detail["key_id"] = .string(keyID) }
        return [
            .audit(AuditEvent(type: .accepted, tenant: tenant, jobID: id, attempt: 1, atMs: finishedAtMs - 10, actor: "ingress", detail: .object(detail))),
            .result(ResultEnvelope(
                jobID: id, tenant: tenant, attempt: 1, status: .succeeded, model: model, response: ["ok": true],
                usage: Usage(promptTokens: tokens.0, completionTokens: tokens.1), cost: cost, currency: cost == nil ? nil : "USD",
                startedAtMs: finishedAtMs - 5, finishedAtMs: finishedAtMs)),
        ]
    }

    @Test("groups by day, model and key; sums tokens and cost; keeps tenants apart; honours the time range")
    func report() async throws {
        let ledger = try TemporaryLedger()
        let day1: Int64 = 1_764_720_000_000  // 2025-12-03T00:00:00Z
        let day2 = day1 + 86_400_000
        try ledger.store.apply(
            Self.job("acme", model: "demo", keyID: "k1", finishedAtMs: day1 + 1_000, tokens: (10, 5), cost: 0.5)
                + Self.job("acme", model: "demo", keyID: "k1", finishedAtMs: day1 + 2_000, tokens: (20, 5), cost: 0.25)
                + Self.job("acme", model: "gpt-4o-mini", keyID: nil, finishedAtMs: day2 + 1_000, tokens: (7, 3), cost: nil)
                + Self.job("globex", model: "demo", keyID: "k9", finishedAtMs: day1 + 3_000, tokens: (1, 1), cost: 1))

        let byDayModel = try await ledger.store.usage(tenant: "acme", fromMs: nil, toMs: nil, groupBy: [.day, .model])
        #expect(byDayModel.count == 2)
        #expect(byDayModel[0].day == "2025-12-03" && byDayModel[0].model == "demo" && byDayModel[0].jobs == 2)
        #expect(byDayModel[0].promptTokens == 30 && byDayModel[0].completionTokens == 10)
        #expect(byDayModel[0].cost == 0.75 && byDayModel[0].currency == "USD")
        #expect(byDayModel[1].day == "2025-12-04" && byDayModel[1].model == "gpt-4o-mini" && byDayModel[1].cost == nil)

        let byKey = try await ledger.store.usage(tenant: nil, fromMs: nil, toMs: nil, groupBy: [.key])
        #expect(byKey.map { "\($0.tenant)/\($0.keyID ?? "-")/\($0.jobs)" } == ["acme/config/1", "acme/k1/2", "globex/k9/1"])

        let firstDay = try await ledger.store.usage(tenant: nil, fromMs: day1, toMs: day2, groupBy: [])
        #expect(firstDay.map(\.tenant) == ["acme", "globex"])
        #expect(firstDay.first?.jobs == 2)
    }
}
