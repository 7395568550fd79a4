import Foundation
@testable import Ingress
import SluiceCore
import Synchronization
import Testing

/// What a control event does to the key ring before the tables show it: a revocation refuses
/// the key at once and a stale re-read cannot bring it back; an expiry applies from its time and
/// can be moved; announcements end once the tables show them.
@Suite("Key ring and announced revocations")
struct KeyRingAnnouncementTests {
    final class TestClock: Sendable {
        let ms = Atomic<Int64>(1_000_000)
        var clock: WallClock { WallClock { [self] in self.ms.load(ordering: .relaxed) } }
        func set(_ value: Int64) { ms.store(value, ordering: .relaxed) }
    }

    static func ring(_ clock: TestClock) throws -> KeyRing {
        try KeyRing(tenants: [TenantConfiguration(id: "cfg", keys: [APIKeyConfiguration(key: "sk-sluice-config")])], clock: clock.clock)
    }

    static func accepts(_ ring: KeyRing, _ key: String) -> Bool {
        (try? ring.authenticate("Bearer \(key)")) != nil
    }

    @Test("a revocation refuses the key at once; a re-read from before it keeps it refused; the revoked row ends the announcement")
    func revocation() throws {
        let clock = TestClock()
        let ring = try Self.ring(clock)
        let made = APIKeyFormat.generate(tenant: "acme", role: "submitter", nowMs: 1_000)
        ring.update([made.stored])
        #expect(Self.accepts(ring, made.key))

        ring.announce(keyID: made.stored.keyID, stopsAtMs: 1_000_000, revoked: true)
        #expect(!Self.accepts(ring, made.key))
        // A snapshot read before the revocation was written, applied after the event.
        ring.update([made.stored])
        #expect(!Self.accepts(ring, made.key))
        // A later expiry announcement does not lift a revocation.
        ring.announce(keyID: made.stored.keyID, stopsAtMs: 9_000_000, revoked: false)
        #expect(!Self.accepts(ring, made.key))
        // The tables now show it; the row alone keeps it refused.
        var revoked = made.stored
        revoked.revokedAtMs = 1_000_000
        ring.update([revoked])
        #expect(!Self.accepts(ring, made.key))
        // Other keys are untouched throughout.
        #expect(Self.accepts(ring, "sk-sluice-config"))
    }

    @Test("an announced expiry applies from its time, and a second announcement moves it")
    func expiry() throws {
        let clock = TestClock()
        let ring = try Self.ring(clock)
        let made = APIKeyFormat.generate(tenant: "acme", role: "submitter", nowMs: 1_000)
        ring.update([made.stored])
        ring.announce(keyID: made.stored.keyID, stopsAtMs: 2_000_000, revoked: false)
        #expect(Self.accepts(ring, made.key))
        clock.set(2_000_000)
        #expect(!Self.accepts(ring, made.key))
        ring.announce(keyID: made.stored.keyID, stopsAtMs: 5_000_000, revoked: false)
        #expect(Self.accepts(ring, made.key))
        // Once the row shows that expiry, the announcement is dropped and the row decides.
        var expiring = made.stored
        expiring.expiresAtMs = 5_000_000
        ring.update([expiring])
        clock.set(5_000_000)
        #expect(!Self.accepts(ring, made.key))
    }

    @Test("an announcement for a key this ingress does not know yet refuses it when the key appears")
    func unknownKey() throws {
        let clock = TestClock()
        let ring = try Self.ring(clock)
        let made = APIKeyFormat.generate(tenant: "acme", role: "submitter", nowMs: 1_000)
        ring.announce(keyID: made.stored.keyID, stopsAtMs: 500_000, revoked: true)
        #expect(!Self.accepts(ring, made.key))
        ring.update([made.stored])
        #expect(!Self.accepts(ring, made.key))
    }
}
