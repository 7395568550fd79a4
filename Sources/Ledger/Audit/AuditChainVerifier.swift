import SluiceCore

/// Recomputes audit chains and checkpoints and stops at the first broken link.
///
/// Works on events and checkpoints from anywhere (the ledger's tables, an export file), so the
/// same checks run inside the ledger and offline. Feed each tenant's events in chain order
/// (tenants may interleave); a tenant whose first event fed is not its chain's first is
/// anchored at that event's `prev_hash` (a time range), and only what follows is checked.
public struct AuditChainVerifier: Sendable {
    private struct Tail: Sendable {
        var index: Int64
        var id: String
        var hash: [UInt8]
        /// The hash before `hash`, to tell an inserted event from a removed one.
        var previousHash: [UInt8]
    }

    private var tails: [String: Tail] = [:]
    public internal(set) var report = AuditVerification()

    public init() {}

    /// The last event checked of each tenant: its chain index and hash.
    public var heads: [String: AuditCheckpoint.Head] {
        tails.mapValues { AuditCheckpoint.Head(length: $0.index, hash: $0.hash) }
    }

    /// Checks one event against its own fields and against the tenant's previous event.
    ///
    /// - Returns: false once a failure has been recorded (this one or an earlier one): stop then.
    @discardableResult
    public mutating func check(_ chained: ChainedAuditEvent) -> Bool {
        guard report.failure == nil else { return false }
        let event = chained.event
        let tenant = event.tenant
        func fail(_ kind: String, _ message: String, expected: [UInt8]?, found: [UInt8]?, id: String? = nil, index: Int64? = nil) -> Bool {
            report.failure = AuditVerification.Failure(
                kind: kind, message: message, eventID: id ?? event.id, tenant: tenant, chainIndex: index ?? chained.chainIndex,
                expected: expected.map(Hex.encode), found: found.map(Hex.encode))
            return false
        }
        if !chained.payloadPurged {
            let digest = AuditHashing.payloadDigest(event.detail)
            if digest != chained.payloadDigest {
                return fail("payload", "the payload of event \(event.id) does not match its recorded digest (changed after it was chained)", expected: chained.payloadDigest, found: digest)
            }
        }
        let hash = AuditHashing.link(prevHash: chained.prevHash, event: event, payloadDigest: chained.payloadDigest)
        if hash != chained.hash {
            return fail("hash", "the stored hash of event \(event.id) is not the hash of its fields (the event was changed after it was chained)", expected: hash, found: chained.hash)
        }
        if let tail = tails[tenant] {
            if chained.prevHash != tail.hash {
                if chained.prevHash == tail.previousHash {
                    return fail(
                        "inserted", "event \(tail.id) (chain index \(tail.index)) is not part of the chain: event \(event.id) continues from the event before it",
                        expected: tail.previousHash, found: tail.hash, id: tail.id, index: tail.index)
                }
                if chained.chainIndex > tail.index + 1 {
                    return fail("prev_hash", "event \(event.id) does not follow event \(tail.id): \(chained.chainIndex - tail.index - 1) event(s) before it are missing", expected: tail.hash, found: chained.prevHash)
                }
                return fail("prev_hash", "event \(event.id) does not follow event \(tail.id) (an event before it was removed, changed or moved)", expected: tail.hash, found: chained.prevHash)
            }
            if chained.chainIndex != tail.index + 1 {
                return fail("chain_index", "event \(event.id) is at chain index \(chained.chainIndex), expected \(tail.index + 1)", expected: nil, found: nil)
            }
        } else {
            if chained.chainIndex == 1, chained.prevHash != AuditHashing.genesis {
                return fail("prev_hash", "event \(event.id) is first in its chain but does not start from the genesis hash", expected: AuditHashing.genesis, found: chained.prevHash)
            }
            report.tenantsChecked += 1
        }
        tails[tenant] = Tail(index: chained.chainIndex, id: event.id, hash: chained.hash, previousHash: chained.prevHash)
        report.eventsChecked += 1
        return true
    }

    /// Checks a chain head recorded elsewhere (the ledger's head table, a signed checkpoint)
    /// against the hash found at that position.
    public mutating func checkHead(
        tenant: String, head: AuditCheckpoint.Head, foundHash: [UInt8]?, checkpointSeq: Int64?, what: String
    ) {
        guard report.failure == nil, head.length > 0 else { return }
        guard let foundHash else {
            report.failure = AuditVerification.Failure(
                kind: "head", message: "\(what) says tenant \(tenant)'s chain holds \(head.length) events, but there is no event at that position",
                tenant: tenant, chainIndex: head.length, checkpointSeq: checkpointSeq, expected: Hex.encode(head.hash))
            return
        }
        if foundHash != head.hash {
            report.failure = AuditVerification.Failure(
                kind: "head", message: "\(what) records a different hash for tenant \(tenant)'s event at chain index \(head.length)",
                tenant: tenant, chainIndex: head.length, checkpointSeq: checkpointSeq, expected: Hex.encode(head.hash),
                found: Hex.encode(foundHash))
        }
    }

    /// Checks a checkpoint's signature, its link to the previous checkpoint and (when the leaves
    /// are at hand) its Merkle root. Heads are checked with ``checkHead``.
    public mutating func check(
        checkpoint: AuditCheckpoint, previous: AuditCheckpoint?, publicKeys: [String: [UInt8]], leaves: [[UInt8]]?
    ) {
        guard report.failure == nil else { return }
        func fail(_ kind: String, _ message: String, expected: [UInt8]? = nil, found: [UInt8]? = nil) {
            report.failure = AuditVerification.Failure(
                kind: kind, message: message, checkpointSeq: checkpoint.seq, expected: expected.map(Hex.encode),
                found: found.map(Hex.encode))
        }
        guard let key = publicKeys[checkpoint.keyID] else {
            return fail("signature", "checkpoint \(checkpoint.seq) is signed by unknown key \(checkpoint.keyID)")
        }
        guard AuditSignature.isValid(checkpoint, publicKey: key) else {
            return fail("signature", "checkpoint \(checkpoint.seq) does not carry a valid signature of key \(checkpoint.keyID)")
        }
        if let previous {
            let digest = AuditHashing.sha256(previous.signedBody.canonicalJSON())
            if checkpoint.previous != digest || checkpoint.seq != previous.seq + 1 {
                return fail("checkpoint_chain", "checkpoint \(checkpoint.seq) does not follow checkpoint \(previous.seq)", expected: digest, found: checkpoint.previous)
            }
        } else if checkpoint.seq == 1, checkpoint.previous != AuditHashing.genesis {
            return fail("checkpoint_chain", "checkpoint 1 does not start from the genesis hash", expected: AuditHashing.genesis, found: checkpoint.previous)
        }
        if let leaves {
            let root = MerkleTree.root(leaves)
            if leaves.count != checkpoint.eventCount || root != checkpoint.merkleRoot {
                return fail("merkle_root", "the events of checkpoint \(checkpoint.seq) (ledger seq \(checkpoint.firstSeq)–\(checkpoint.lastSeq), \(leaves.count) found, \(checkpoint.eventCount) signed) do not give its Merkle root", expected: checkpoint.merkleRoot, found: root)
            }
        }
        report.checkpointsChecked += 1
    }

    /// Records how many checked events no checkpoint covers yet.
    public mutating func noteUncovered(_ count: Int64) {
        report.eventsAfterLastCheckpoint = count
    }
}

/// Checks an inclusion proof with nothing but the proof and the public key.
public enum AuditProofVerifier {
    /// nil when the proof holds; otherwise why not.
    public static func problem(_ proof: AuditProof, publicKey: [UInt8]) -> String? {
        let e = proof.event
        let hash = AuditHashing.link(prevHash: e.prevHash, event: e.event, payloadDigest: e.payloadDigest)
        guard hash == e.hash else {
            return "the event's hash is not the hash of its fields (expected \(Hex.encode(hash)), found \(Hex.encode(e.hash)))"
        }
        let root = MerkleTree.root(from: hash, path: proof.path)
        guard root == proof.checkpoint.merkleRoot else {
            return "the Merkle path does not lead to the checkpoint's root (expected \(Hex.encode(proof.checkpoint.merkleRoot)), found \(Hex.encode(root)))"
        }
        guard AuditSignature.keyID(matches: proof.checkpoint.keyID, publicKey: publicKey) else {
            return "the checkpoint was signed by key \(proof.checkpoint.keyID), not by the given public key (\(AuditSigner.keyID(publicKey: publicKey)))"
        }
        guard AuditSignature.isValid(proof.checkpoint, publicKey: publicKey) else {
            return "the checkpoint's signature is not valid for the given public key"
        }
        return nil
    }
}

extension AuditSignature {
    static func keyID(matches keyID: String, publicKey: [UInt8]) -> Bool {
        AuditSigner.keyID(publicKey: publicKey) == keyID
    }
}
