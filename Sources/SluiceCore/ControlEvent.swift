/// One record of the compacted `sluice.control` topic (key = subject): a fact that every
/// worker process (cancellations) or every ingress process (key revocations, tenant changes)
/// must know, whichever partitions of the jobs topics it owns.
///
/// Versioned (`v`) and typed (`type`) so that new kinds (key revocations) can join without
/// breaking readers: a reader skips a kind or a version it does not know instead of failing.
/// The key names the subject (`job:<id>`, `dlq:<topic>/<partition>/<offset>`, `key:<key id>`,
/// `tenant:<id>`), so compaction
/// keeps the latest fact per subject and a restarted reader rebuilds its state from the topic.
public struct ControlEvent: Sendable, Equatable {
    public static let schema = "control.v1"
    /// The envelope version this code writes and reads.
    public static let version = 1

    public var kind: Kind
    /// The job the event is about; empty for kinds about no job (keys, tenants).
    public var jobID: String
    public var tenant: String
    /// Unix milliseconds of the request.
    public var requestedAtMs: Int64
    /// Who asked (`ingress:<host>:<pid>` for an API call, `cli:<user>@<host>` for the CLI).
    public var actor: String
    /// For ``Kind/dlqReplayed``: the DLQ record that was replayed (`topic/partition/offset`).
    public var dlqRecord: String?
    /// For ``Kind/keyRevoked`` and ``Kind/keyExpires``: the ledger's id of the API key.
    public var keyID: String?
    /// For ``Kind/keyRevoked`` and ``Kind/keyExpires``: Unix milliseconds from which the key
    /// no longer works (an expiry may lie ahead, or be moved later by a second event).
    public var effectiveAtMs: Int64?

    /// What the event says. A struct with static members, not an enum: kinds will be added.
    public struct Kind: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The job must not be called again; it ends `cancelled`.
        public static let jobCancel = Kind(rawValue: "job.cancel")
        /// A DLQ record was put back on its jobs topic; `sluice dlq replay` skips it next time.
        public static let dlqReplayed = Kind(rawValue: "dlq.replayed")
        /// An API key was revoked: every ingress refuses it at once.
        public static let keyRevoked = Kind(rawValue: "key.revoked")
        /// An API key's expiry was set: every ingress refuses it from `effectiveAtMs`.
        public static let keyExpires = Kind(rawValue: "key.expires")
        /// A tenant's limits or policy changed: every ingress re-reads the tenancy tables.
        public static let tenantChanged = Kind(rawValue: "tenant.changed")

        /// The kinds about an API key, which carry `key_id` and `effective_at_ms`.
        var isAboutKey: Bool { self == .keyRevoked || self == .keyExpires }
    }

    public init(
        kind: Kind, jobID: String, tenant: String, requestedAtMs: Int64, actor: String, dlqRecord: String? = nil, keyID: String? = nil,
        effectiveAtMs: Int64? = nil
    ) {
        self.kind = kind
        self.jobID = jobID
        self.tenant = tenant
        self.requestedAtMs = requestedAtMs
        self.actor = actor
        self.dlqRecord = dlqRecord
        self.keyID = keyID
        self.effectiveAtMs = effectiveAtMs
    }

    /// A key revoked at `atMs` (and asked for then).
    public static func keyRevoked(keyID: String, tenant: String, atMs: Int64, actor: String) -> ControlEvent {
        ControlEvent(kind: .keyRevoked, jobID: "", tenant: tenant, requestedAtMs: atMs, actor: actor, keyID: keyID, effectiveAtMs: atMs)
    }

    /// A key that stops working at `atMs`, set at `requestedAtMs`.
    public static func keyExpires(keyID: String, tenant: String, atMs: Int64, requestedAtMs: Int64, actor: String) -> ControlEvent {
        ControlEvent(kind: .keyExpires, jobID: "", tenant: tenant, requestedAtMs: requestedAtMs, actor: actor, keyID: keyID, effectiveAtMs: atMs)
    }

    /// A tenant whose limits or policy an admin changed.
    public static func tenantChanged(tenant: String, requestedAtMs: Int64, actor: String) -> ControlEvent {
        ControlEvent(kind: .tenantChanged, jobID: "", tenant: tenant, requestedAtMs: requestedAtMs, actor: actor)
    }

    /// The record key: the subject that compaction keeps one fact for.
    public var key: String {
        switch kind {
        case .dlqReplayed: Self.dlqKey(record: dlqRecord ?? jobID)
        case .keyRevoked, .keyExpires: "key:\(keyID ?? "")"
        case .tenantChanged: "tenant:\(tenant)"
        default: Self.jobKey(jobID)
        }
    }

    public static func jobKey(_ jobID: String) -> String { "job:\(jobID)" }
    public static func dlqKey(record: String) -> String { "dlq:\(record)" }
}

extension ControlEvent: JSONRepresentable {
    /// - Throws: `JSONShapeError` for a missing field (`job_id` on job kinds, `key_id` and
    ///   `effective_at_ms` on key kinds), a timestamp out of range, or a version other than
    ///   ``version`` (readers skip such records and log them).
    public init(json: JSONValue) throws(JSONShapeError) {
        let r = try JSONObjectReader(json, path: "control")
        let version = try r.int("v", in: 0...Int64(Int32.max))
        guard version == Int64(Self.version) else { throw r.invalid("v", "unsupported version \(version)") }
        let kind = Kind(rawValue: try r.string("type"))
        let aboutJob = !(kind.isAboutKey || kind == .tenantChanged)
        let jobID = try aboutJob ? r.string("job_id") : r.optionalString("job_id") ?? ""
        let keyID = try kind.isAboutKey ? r.string("key_id") : r.optionalString("key_id")
        let effectiveAtMs = try kind.isAboutKey ? r.int("effective_at_ms", in: Wire.timestampRangeMs) : nil
        self.init(
            kind: kind, jobID: jobID, tenant: try r.string("tenant"),
            requestedAtMs: try r.int("requested_at_ms", in: Wire.timestampRangeMs), actor: try r.string("actor"),
            dlqRecord: try r.optionalString("dlq_record"), keyID: keyID, effectiveAtMs: effectiveAtMs)
    }

    public var json: JSONValue {
        var w = JSONObjectWriter()
        w.set("v", Self.version)
        w.set("type", kind.rawValue)
        w.set("job_id", jobID)
        w.set("tenant", tenant)
        w.set("requested_at_ms", requestedAtMs)
        w.set("actor", actor)
        w.set("dlq_record", dlqRecord)
        w.set("key_id", keyID)
        w.set("effective_at_ms", effectiveAtMs)
        return w.json
    }
}
