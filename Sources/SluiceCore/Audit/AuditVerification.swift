/// The outcome of checking audit chains and checkpoints: counts, and the first broken link.
public struct AuditVerification: Sendable, Equatable {
    /// The first thing found wrong, precisely enough to go and look at it.
    public struct Failure: Sendable, Equatable {
        /// What is wrong: `hash` (the stored hash is not the one the event's fields give),
        /// `payload` (the payload does not match its digest), `prev_hash` (the event does not
        /// continue the chain: an event before it was removed, changed or moved), `inserted`
        /// (the event before this one is not part of the chain this one continues),
        /// `chain_index` (positions skip or repeat), `head` (a chain head, stored or signed,
        /// disagrees with the events), `merkle_root`, `signature`, `checkpoint_chain`.
        public var kind: String
        public var message: String
        public var eventID: String?
        public var tenant: String?
        public var chainIndex: Int64?
        public var checkpointSeq: Int64?
        /// Hex of what the rest of the chain says should be there, and of what is there.
        public var expected: String?
        public var found: String?

        public init(
            kind: String, message: String, eventID: String? = nil, tenant: String? = nil, chainIndex: Int64? = nil,
            checkpointSeq: Int64? = nil, expected: String? = nil, found: String? = nil
        ) {
            self.kind = kind
            self.message = message
            self.eventID = eventID
            self.tenant = tenant
            self.chainIndex = chainIndex
            self.checkpointSeq = checkpointSeq
            self.expected = expected
            self.found = found
        }
    }

    public var eventsChecked: Int64 = 0
    public var checkpointsChecked: Int64 = 0
    public var tenantsChecked: Int64 = 0
    /// Events checked that no signed checkpoint covers yet (only the chain vouches for them).
    public var eventsAfterLastCheckpoint: Int64 = 0
    public var failure: Failure?

    public var ok: Bool { failure == nil }

    public init() {}
}

extension AuditVerification.Failure: JSONRepresentable {
    public init(json: JSONValue) throws(JSONShapeError) {
        let r = try JSONObjectReader(json, path: "failure")
        self.init(
            kind: try r.string("kind"), message: try r.string("message"), eventID: try r.optionalString("event_id"),
            tenant: try r.optionalString("tenant"), chainIndex: try r.optionalInt("chain_index"),
            checkpointSeq: try r.optionalInt("checkpoint_seq"), expected: try r.optionalString("expected"),
            found: try r.optionalString("found"))
    }

    public var json: JSONValue {
        var w = JSONObjectWriter()
        w.set("kind", kind)
        w.set("message", message)
        w.set("event_id", eventID)
        w.set("tenant", tenant)
        w.set("chain_index", chainIndex)
        w.set("checkpoint_seq", checkpointSeq)
        w.set("expected", expected)
        w.set("found", found)
        return w.json
    }
}

extension AuditVerification: JSONRepresentable {
    public init(json: JSONValue) throws(JSONShapeError) {
        let r = try JSONObjectReader(json, path: "verification")
        self.init()
        eventsChecked = try r.int("events_checked")
        checkpointsChecked = try r.int("checkpoints_checked")
        tenantsChecked = try r.optionalInt("tenants_checked") ?? 0
        eventsAfterLastCheckpoint = try r.optionalInt("events_after_last_checkpoint") ?? 0
        failure = try r.optional("failure").map { (json) throws(JSONShapeError) in try Failure(json: json) }
    }

    public var json: JSONValue {
        var w = JSONObjectWriter()
        w.set("ok", .bool(ok))
        w.set("events_checked", eventsChecked)
        w.set("checkpoints_checked", checkpointsChecked)
        w.set("tenants_checked", tenantsChecked)
        w.set("events_after_last_checkpoint", eventsAfterLastCheckpoint)
        w.set("failure", failure)
        return w.json
    }
}
