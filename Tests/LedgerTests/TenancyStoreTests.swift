import Foundation
import Ledger
import SluiceCore
import Testing

/// Tenants, keys and token counts in the ledger file (migration `v9-tenancy`).
@Suite("Ledger: tenants and keys")
struct TenancyStoreTests {
    static func key(_ id: String, tenant: String = "acme", role: String = "auditor", grants: [String] = []) -> StoredAPIKey {
        StoredAPIKey(
            keyID: id, tenant: tenant, role: role, salt: [1, 2, 3], hash: Array(repeating: 7, count: 32), createdAtMs: 1_000,
            grants: grants)
    }

    @Test("keys round-trip with their grants; revoke and expire change only the named key")
    func keys() async throws {
        let ledger = try TemporaryLedger()
        try await ledger.store.insertKey(Self.key("k1", grants: ["acme", "globex"]))
        try await ledger.store.insertKey(Self.key("k2", role: "submitter"))
        #expect(try await ledger.store.revokeKey(keyID: "k1", atMs: 5_000))
        #expect(try await ledger.store.expireKey(keyID: "k2", atMs: 9_000))
        #expect(try await ledger.store.revokeKey(keyID: "nope", atMs: 5_000) == false)
        // A second revocation keeps the first time.
        #expect(try await ledger.store.revokeKey(keyID: "k1", atMs: 8_000))

        let keys = try await ledger.store.tenancy().keys
        let k1 = try #require(keys.first { $0.keyID == "k1" })
        let k2 = try #require(keys.first { $0.keyID == "k2" })
        #expect(k1.grants.sorted() == ["acme", "globex"])
        #expect(k1.revokedAtMs == 5_000 && k1.expiresAtMs == nil)
        #expect(k2.expiresAtMs == 9_000 && k2.revokedAtMs == nil && k2.grants.isEmpty)
        #expect(k1.salt == [1, 2, 3] && k1.hash.count == 32)
        #expect(!k1.isUsable(nowMs: 5_000) && k1.isUsable(nowMs: 4_999))
        #expect(!k2.isUsable(nowMs: 9_000))
    }

    @Test("a tenant update changes the fields it sets and keeps the others")
    func tenantUpdate() async throws {
        let ledger = try TemporaryLedger()
        try await ledger.store.upsertTenant(
            StoredTenant(id: "acme", allowP0: true, limits: TenantLimits(requestsPerSecond: 5, monthlyBudget: 100), updatedAtMs: 1))
        try await ledger.store.upsertTenant(StoredTenant(id: "acme", subKeys: 4, limits: TenantLimits(burst: 10), updatedAtMs: 2))
        let tenant = try #require(try await ledger.store.tenancy().tenants.first)
        #expect(tenant.allowP0 == true && tenant.subKeys == 4)
        #expect(tenant.limits == TenantLimits(requestsPerSecond: 5, burst: 10, monthlyBudget: 100))
        #expect(tenant.updatedAtMs == 2)
    }

    @Test("token counts add up per tenant and day; usage counts unfinished jobs")
    func usage() async throws {
        let ledger = try TemporaryLedger()
        try await ledger.store.recordTokens(["acme": 100, "globex": 5], day: "2026-12-03")
        try await ledger.store.recordTokens(["acme": 50], day: "2026-12-03")
        try await ledger.store.recordTokens(["acme": 7], day: "2026-12-04")
        let usage = try await ledger.store.usage(tenant: "acme", day: "2026-12-03", monthStartMs: 0)
        #expect(usage.tokensToday == 150)
        #expect(usage.inFlight == 0 && usage.monthCost == 0)
        try ledger.store.apply([Fixture.accepted("j1")])
        #expect(try await ledger.store.usage(tenant: Fixture.tenant, day: "2026-12-03", monthStartMs: 0).inFlight == 1)
    }
}
