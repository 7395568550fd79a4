/// Evidence that one audit event is in the ledger, checkable without the ledger: the event's
/// chain fields, its Merkle path, and the signed checkpoint whose root the path leads to.
///
/// A third party recomputes the event's hash from its fields, hashes it into a leaf, folds the
/// path into a root, compares it with the checkpoint's `merkle_root`, and checks the
/// checkpoint's Ed25519 signature with the published public key (README, "Audit").
public struct AuditProof: Sendable, Equatable {
    /// One step of a Merkle path: the sibling's hash and whether it sits left or right.
    public struct Step: Sendable, Equatable {
        public var siblingIsLeft: Bool
        public var hash: [UInt8]

        public init(siblingIsLeft: Bool, hash: [UInt8]) {
            self.siblingIsLeft = siblingIsLeft
            self.hash = hash
        }
    }

    /// The event with its chain fields; `detail` is left out (the digest stands for it).
    public var event: ChainedAuditEvent
    /// The event's position among the checkpoint's leaves (0-based) and their number.
    public var leafIndex: Int64
    public var leafCount: Int64
    public var path: [Step]
    public var checkpoint: AuditCheckpoint

    public init(event: ChainedAuditEvent, leafIndex: Int64, leafCount: Int64, path: [Step], checkpoint: AuditCheckpoint) {
        self.event = event
        self.leafIndex = leafIndex
        self.leafCount = leafCount
        self.path = path
        self.checkpoint = checkpoint
    }
}

extension AuditProof: JSONRepresentable {
    public init(json: JSONValue) throws(JSONShapeError) {
        let r = try JSONObjectReader(json, path: "proof")
        guard let eventJSON = r.optional("event") else { throw JSONShapeError(path: "event", reason: "missing") }
        guard let checkpointJSON = r.optional("checkpoint") else { throw JSONShapeError(path: "checkpoint", reason: "missing") }
        var path: [Step] = []
        for (index, item) in (r.optional("path")?.arrayValue ?? []).enumerated() {
            let s = try JSONObjectReader(item, path: "path[\(index)]")
            let side = try s.string("side")
            guard side == "left" || side == "right" else {
                throw JSONShapeError(path: "path[\(index)].side", reason: "expected 'left' or 'right'")
            }
            path.append(Step(siblingIsLeft: side == "left", hash: try s.hex("hash", count: 32)))
        }
        self.init(
            event: try ChainedAuditEvent(json: eventJSON), leafIndex: try r.int("leaf_index", in: 0...Int64.max),
            leafCount: try r.int("leaf_count", in: 1...Int64.max), path: path,
            checkpoint: try AuditCheckpoint(json: checkpointJSON))
    }

    public var json: JSONValue {
        var event = self.event
        event.event.detail = nil
        return .object([
            "format": "sluice-audit-proof-v1",
            "event": event.json, "leaf_index": .int(leafIndex), "leaf_count": .int(leafCount),
            "path": .array(path.map { .object(["side": .string($0.siblingIsLeft ? "left" : "right"), "hash": .string(Hex.encode($0.hash))]) }),
            "checkpoint": checkpoint.json,
        ])
    }
}

/// What a proof request finds.
public enum AuditProofLookup: Sendable, Equatable {
    case notFound
    /// The event exists (of this tenant) but no checkpoint covers it yet.
    case pending(tenant: String)
    case proof(AuditProof)
}

/// A published checkpoint-signing key.
public struct AuditPublicKey: Sendable, Equatable, JSONRepresentable {
    public var keyID: String
    /// Raw 32-byte Ed25519 public key.
    public var publicKey: [UInt8]
    public var createdAtMs: Int64

    public init(keyID: String, publicKey: [UInt8], createdAtMs: Int64) {
        self.keyID = keyID
        self.publicKey = publicKey
        self.createdAtMs = createdAtMs
    }

    public init(json: JSONValue) throws(JSONShapeError) {
        let r = try JSONObjectReader(json, path: "key")
        self.init(
            keyID: try r.string("key_id"), publicKey: try r.hex("public_key", count: 32),
            createdAtMs: try r.optionalInt("created_at_ms", in: Wire.timestampRangeMs) ?? 0)
    }

    public var json: JSONValue {
        ["key_id": .string(keyID), "algorithm": "Ed25519", "public_key": .string(Hex.encode(publicKey)), "created_at_ms": .int(createdAtMs)]
    }
}
