/// A signed statement of the ledger at one moment: every tenant's chain head and a Merkle root
/// over the events that arrived since the previous checkpoint.
///
/// The signature covers the canonical JSON of ``signedBody`` (every field but `signature`).
/// Checkpoints are chained too (`previous` is the SHA-256 of the previous checkpoint's signed
/// body), so removing one is as visible as changing one.
public struct AuditCheckpoint: Sendable, Equatable {
    /// The head of one tenant's chain: how many events it holds and the last one's hash.
    public struct Head: Sendable, Equatable {
        public var length: Int64
        public var hash: [UInt8]

        public init(length: Int64, hash: [UInt8]) {
            self.length = length
            self.hash = hash
        }
    }

    /// 1-based number of the checkpoint in this ledger.
    public var seq: Int64
    public var atMs: Int64
    /// The ledger `seq` range of the events the Merkle tree covers, both ends included.
    public var firstSeq: Int64
    public var lastSeq: Int64
    /// How many events (leaves) the tree covers.
    public var eventCount: Int64
    public var merkleRoot: [UInt8]
    /// Tenant → head, for every tenant with a chain at that moment.
    public var heads: [String: Head]
    /// SHA-256 of the previous checkpoint's canonical signed body; zeros for the first.
    public var previous: [UInt8]
    /// Which signing key signed it (see the public-key endpoint).
    public var keyID: String
    /// Ed25519 signature (64 bytes) over the canonical JSON of ``signedBody``.
    public var signature: [UInt8]

    public init(
        seq: Int64, atMs: Int64, firstSeq: Int64, lastSeq: Int64, eventCount: Int64, merkleRoot: [UInt8],
        heads: [String: Head], previous: [UInt8], keyID: String, signature: [UInt8]
    ) {
        self.seq = seq
        self.atMs = atMs
        self.firstSeq = firstSeq
        self.lastSeq = lastSeq
        self.eventCount = eventCount
        self.merkleRoot = merkleRoot
        self.heads = heads
        self.previous = previous
        self.keyID = keyID
        self.signature = signature
    }

    /// What is signed: every field except the signature.
    public var signedBody: JSONValue {
        var heads: [String: JSONValue] = [:]
        for (tenant, head) in self.heads {
            heads[tenant] = .object(["length": .int(head.length), "hash": .string(Hex.encode(head.hash))])
        }
        return .object([
            "seq": .int(seq), "at_ms": .int(atMs), "first_seq": .int(firstSeq), "last_seq": .int(lastSeq),
            "event_count": .int(eventCount), "merkle_root": .string(Hex.encode(merkleRoot)), "heads": .object(heads),
            "previous": .string(Hex.encode(previous)), "key_id": .string(keyID),
        ])
    }
}

extension AuditCheckpoint: JSONRepresentable {
    public init(json: JSONValue) throws(JSONShapeError) {
        let r = try JSONObjectReader(json, path: "checkpoint")
        var heads: [String: Head] = [:]
        let headsReader = try JSONObjectReader(r.optional("heads") ?? .object([:]), path: "heads")
        for (tenant, value) in headsReader.fields {
            let h = try JSONObjectReader(value, path: "heads.\(tenant)")
            heads[tenant] = Head(length: try h.int("length", in: 0...Int64.max), hash: try h.hex("hash", count: 32))
        }
        self.init(
            seq: try r.int("seq", in: 1...Int64.max), atMs: try r.int("at_ms", in: Wire.timestampRangeMs),
            firstSeq: try r.int("first_seq", in: 0...Int64.max), lastSeq: try r.int("last_seq", in: 0...Int64.max),
            eventCount: try r.int("event_count", in: 0...Int64.max), merkleRoot: try r.hex("merkle_root", count: 32),
            heads: heads, previous: try r.hex("previous", count: 32), keyID: try r.string("key_id"),
            signature: try r.hex("signature", count: 64))
    }

    public var json: JSONValue {
        guard case .object(var fields) = signedBody else { return signedBody }
        fields["signature"] = .string(Hex.encode(signature))
        return .object(fields)
    }
}
