import Foundation
import Ledger
import SluiceCore
import Testing

/// The ledger's `Idempotency-Key` bindings: written with job.accepted, read by every ingress,
/// kept 24 h, evicted in bounded steps.
@Suite("Idempotency-Key bindings in the ledger", .timeLimit(.minutes(1)))
struct IdempotencyBindingTests {
    static let hour: Int64 = 3_600_000

    static func accepted(_ jobID: String, key: String?, fingerprint: String?, atMs: Int64, tenant: String = Fixture.tenant) -> LedgerRecord {
        var detail: [String: JSONValue] = ["model": .string(Fixture.model), "priority": "p1"]
        if let key { detail["idempotency_key"] = .string(key) }
        if let fingerprint { detail["request_fingerprint"] = .string(fingerprint) }
        return .audit(
            AuditEvent(type: .accepted, tenant: tenant, jobID: jobID, attempt: 1, atMs: atMs, actor: "ingress", detail: .object(detail)))
    }

    @Test("job.accepted with a key binds it to the job; the first live binding wins; no fingerprint, no binding")
    func binding() async throws {
        let ledger = try TemporaryLedger()
        let now = WallClock.system.nowMs()
        let first = UUIDv7.generate(), second = UUIDv7.generate(), legacy = UUIDv7.generate()
        try ledger.store.apply([
            Self.accepted(first, key: "k-1", fingerprint: "00000000000000aa", atMs: now),
            Self.accepted(second, key: "k-1", fingerprint: "00000000000000bb", atMs: now + 1),
            Self.accepted(legacy, key: "k-old", fingerprint: nil, atMs: now),
        ])

        let binding = try #require(try await ledger.store.idempotencyBinding(tenant: Fixture.tenant, key: "k-1"))
        #expect(binding == IdempotencyBinding(tenant: Fixture.tenant, key: "k-1", jobID: first, fingerprint: "00000000000000aa", createdAtMs: now))
        #expect(binding.isAlive(nowMs: now + 23 * Self.hour))
        #expect(!binding.isAlive(nowMs: now + 24 * Self.hour))
        #expect(try await ledger.store.idempotencyBinding(tenant: "globex", key: "k-1") == nil)
        #expect(try await ledger.store.idempotencyBinding(tenant: Fixture.tenant, key: "k-old") == nil)
    }

    @Test("an expired binding is replaced by a new acceptance of the key")
    func rebindAfterExpiry() async throws {
        let ledger = try TemporaryLedger()
        let now = WallClock.system.nowMs()
        let old = UUIDv7.generate(), new = UUIDv7.generate()
        try ledger.store.apply([Self.accepted(old, key: "k", fingerprint: "01", atMs: now - 23 * Self.hour)])
        try ledger.store.apply([Self.accepted(new, key: "k", fingerprint: "02", atMs: now + 2 * Self.hour)])
        #expect(try await ledger.store.idempotencyBinding(tenant: Fixture.tenant, key: "k")?.jobID == new)
    }

    @Test("expired bindings leave with the writes, oldest first and at most the limit per call")
    func eviction() async throws {
        let ledger = try TemporaryLedger()
        let now = WallClock.system.nowMs()
        // Already expired when written: the same write deletes it.
        try ledger.store.apply([Self.accepted(UUIDv7.generate(), key: "stale", fingerprint: "01", atMs: now - 25 * Self.hour)])
        #expect(try await ledger.store.idempotencyBinding(tenant: Fixture.tenant, key: "stale") == nil)

        let keys = (0..<5).map { "k-\($0)" }
        try ledger.store.apply(keys.enumerated().map { index, key in
            Self.accepted(UUIDv7.generate(), key: key, fingerprint: "01", atMs: now - 20 * Self.hour + Int64(index))
        })
        let later = now + 5 * Self.hour
        #expect(try ledger.store.evictExpiredIdempotencyKeys(nowMs: later, limit: 2) == 2)
        #expect(try await ledger.store.idempotencyBinding(tenant: Fixture.tenant, key: "k-0") == nil)
        #expect(try await ledger.store.idempotencyBinding(tenant: Fixture.tenant, key: "k-1") == nil)
        #expect(try await ledger.store.idempotencyBinding(tenant: Fixture.tenant, key: "k-2") != nil)
        #expect(try ledger.store.evictExpiredIdempotencyKeys(nowMs: later) == 3)
        #expect(try ledger.store.evictExpiredIdempotencyKeys(nowMs: later) == 0)
        // The jobs themselves stay: only the key bindings expire.
        #expect(try ledger.store.counts().jobs == 6)
    }
}
