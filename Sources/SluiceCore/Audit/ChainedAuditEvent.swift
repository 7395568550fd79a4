/// An audit event as the ledger holds it: the event, its place in its tenant's hash chain, and
/// the hashes that link it there.
///
/// The chain hash covers the skeleton (id, tenant, job id, type, attempt, time, actor) and the
/// payload's digest, not the payload itself, so that a payload purged under a retention policy
/// leaves a chain that still verifies (see `AuditHashing` in the Ledger module for the exact
/// bytes).
public struct ChainedAuditEvent: Sendable, Equatable {
    /// The event; `detail` is nil when the event had none or its payload was purged.
    public var event: AuditEvent
    /// The ledger's own order of arrival (local to one ledger file; used for cursors and for
    /// the Merkle trees of checkpoints).
    public var seq: Int64
    /// 1-based position in the tenant's chain: the same in every ledger fed by the same topics.
    public var chainIndex: Int64
    /// SHA-256 of the canonical JSON of `detail` (of `null` when there is none).
    public var payloadDigest: [UInt8]
    /// The hash of the tenant's previous event; 32 zero bytes for the first one.
    public var prevHash: [UInt8]
    public var hash: [UInt8]
    /// Whether the payload was removed after chaining (only its digest remains).
    public var payloadPurged: Bool

    public init(
        event: AuditEvent, seq: Int64, chainIndex: Int64, payloadDigest: [UInt8], prevHash: [UInt8], hash: [UInt8],
        payloadPurged: Bool = false
    ) {
        self.event = event
        self.seq = seq
        self.chainIndex = chainIndex
        self.payloadDigest = payloadDigest
        self.prevHash = prevHash
        self.hash = hash
        self.payloadPurged = payloadPurged
    }
}

extension ChainedAuditEvent: JSONRepresentable {
    public init(json: JSONValue) throws(JSONShapeError) {
        let r = try JSONObjectReader(json, path: "audit_event")
        let event = try AuditEvent(json: json)
        self.init(
            event: event, seq: try r.int("seq", in: 0...Int64.max), chainIndex: try r.int("chain_index", in: 1...Int64.max),
            payloadDigest: try r.hex("payload_sha256", count: 32), prevHash: try r.hex("prev_hash", count: 32),
            hash: try r.hex("hash", count: 32), payloadPurged: r.optional("payload_purged") == .bool(true))
    }

    public var json: JSONValue {
        guard case .object(var fields) = event.json else { return event.json }
        fields["seq"] = .int(seq)
        fields["chain_index"] = .int(chainIndex)
        fields["payload_sha256"] = .string(Hex.encode(payloadDigest))
        fields["prev_hash"] = .string(Hex.encode(prevHash))
        fields["hash"] = .string(Hex.encode(hash))
        if payloadPurged { fields["payload_purged"] = .bool(true) }
        return .object(fields)
    }
}
