/// Which job an `Idempotency-Key` of a tenant names, and for which request body.
///
/// The ledger keeps one per key for ``lifetimeMs`` from the job's acceptance, so that a retry
/// reaching any ingress process, or a restarted one, gets the first job back instead of a
/// second one. The job id itself is derived from tenant, key and fingerprint (see
/// ``jobID(tenant:key:fingerprint:)``), so even a retry that arrives before the ledger has the
/// binding names the same job, and the ledger's keying on job id absorbs the second produce.
public struct IdempotencyBinding: Sendable, Equatable {
    /// How long a key is bound: 24 hours.
    public static let lifetimeMs: Int64 = 24 * 3600 * 1000

    public var tenant: String
    public var key: String
    public var jobID: String
    /// ``fingerprint(_:)`` of the request body, as 16 lowercase hex digits.
    public var fingerprint: String
    /// When the job was accepted (Unix milliseconds).
    public var createdAtMs: Int64

    public init(tenant: String, key: String, jobID: String, fingerprint: String, createdAtMs: Int64) {
        self.tenant = tenant
        self.key = key
        self.jobID = jobID
        self.fingerprint = fingerprint
        self.createdAtMs = createdAtMs
    }

    /// Whether the binding still holds at `nowMs`.
    public func isAlive(nowMs: Int64) -> Bool {
        // Both times may come from other machines' clocks: no trap on absurd values.
        let (age, overflow) = nowMs.subtractingReportingOverflow(createdAtMs)
        return !overflow && age < Self.lifetimeMs
    }

    /// Bindings created before this time have expired at `nowMs`.
    public static func expiryCutoff(nowMs: Int64) -> Int64 {
        let (cutoff, overflow) = nowMs.subtractingReportingOverflow(lifetimeMs)
        return overflow ? .min : cutoff
    }

    /// FNV-1a (64-bit) of the raw request body, as 16 lowercase hex digits: stable across
    /// processes and versions, cheap, and plenty to tell two bodies of one client apart.
    public static func fingerprint(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The id of the job a keyed request creates: the same on every ingress process for the
    /// same tenant, key and body.
    public static func jobID(tenant: String, key: String, fingerprint: String) -> String {
        DerivedID.make("job", tenant, key, fingerprint)
    }
}
