import Crypto
import SluiceCore

/// The bytes the audit hash chain is made of. Frozen: changing anything here breaks every
/// existing chain.
///
/// For each tenant, events are chained in the order of the audit topic's partition (records are
/// keyed by tenant, so one tenant's events all sit in one partition, in one order that every
/// consumer sees). The first copy of an event id in that order is chained; later copies are
/// redeliveries and are not. So any two ledgers fed by the same topics reach the same heads.
///
///     payload_sha256 = SHA-256(canonical JSON of detail, or of `null` when there is none)
///     skeleton       = canonical JSON of {"actor","at_ms","attempt","id","job_id","tenant","type"},
///                      plus "replay" when the event belongs to a replayed run (replay > 0)
///     hash           = SHA-256(prev_hash (32 bytes) || skeleton || payload_sha256 (32 bytes))
///
/// `prev_hash` of a tenant's first event is 32 zero bytes. The payload is hashed on its own so
/// that purging it later (retention, erasure) keeps every hash checkable from the digest.
public enum AuditHashing {
    /// The `prev_hash` of a chain's first event.
    public static let genesis = [UInt8](repeating: 0, count: 32)

    /// SHA-256 of the canonical JSON of `detail` (of `null` when nil).
    public static func payloadDigest(_ detail: JSONValue?) -> [UInt8] {
        Array(SHA256.hash(data: (detail ?? .null).canonicalJSON()))
    }

    /// The canonical JSON of the event's skeleton: every field but `detail`.
    public static func skeleton(_ event: AuditEvent) -> [UInt8] {
        var fields: [String: JSONValue] = [
            "actor": .string(event.actor), "at_ms": .int(event.atMs), "attempt": .int(Int64(event.attempt)),
            "id": .string(event.id), "job_id": .string(event.jobID), "tenant": .string(event.tenant),
            "type": .string(event.type.rawValue),
        ]
        // Only when set, as on the wire: the first run's events hash as they did before replays.
        if event.replay > 0 { fields["replay"] = .int(Int64(event.replay)) }
        return JSONValue.object(fields).canonicalJSON()
    }

    /// The chain hash of `event` after `prevHash`, its payload standing in as `payloadDigest`.
    public static func link(prevHash: [UInt8], event: AuditEvent, payloadDigest: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: prevHash)
        hasher.update(data: skeleton(event))
        hasher.update(data: payloadDigest)
        return Array(hasher.finalize())
    }

    /// SHA-256 of `bytes`.
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: bytes))
    }
}
