import Crypto
import SluiceCore

/// The Merkle tree of a checkpoint: leaves are the chain hashes of its events in ledger order.
///
///     leaf  = SHA-256(0x00 || event hash)
///     node  = SHA-256(0x01 || left || right)
///
/// Each level pairs neighbours from the left; an odd last node moves up unchanged. The distinct
/// prefixes keep a leaf from passing for a node. A proof lists, from the leaf up, each sibling
/// and its side; a node that moved up unpaired adds no step.
public enum MerkleTree {
    public static func leaf(_ eventHash: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: [0x00])
        hasher.update(data: eventHash)
        return Array(hasher.finalize())
    }

    public static func node(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: [0x01])
        hasher.update(data: left)
        hasher.update(data: right)
        return Array(hasher.finalize())
    }

    /// The root over `eventHashes`; SHA-256 of nothing for an empty list (no checkpoint is
    /// written without events, so it only appears in tests).
    public static func root(_ eventHashes: [[UInt8]]) -> [UInt8] {
        guard !eventHashes.isEmpty else { return Array(SHA256.hash(data: [UInt8]())) }
        var level = eventHashes.map(leaf)
        while level.count > 1 { level = nextLevel(level) }
        return level[0]
    }

    /// The path from leaf `index` to the root, or nil when `index` is out of range.
    public static func path(_ eventHashes: [[UInt8]], index: Int) -> [AuditProof.Step]? {
        guard eventHashes.indices.contains(index) else { return nil }
        var level = eventHashes.map(leaf)
        var position = index
        var steps: [AuditProof.Step] = []
        while level.count > 1 {
            let sibling = position ^ 1
            if sibling < level.count {
                steps.append(AuditProof.Step(siblingIsLeft: sibling < position, hash: level[sibling]))
            }
            level = nextLevel(level)
            position /= 2
        }
        return steps
    }

    /// The root that `path` leads to from the leaf of `eventHash`.
    public static func root(from eventHash: [UInt8], path: [AuditProof.Step]) -> [UInt8] {
        var hash = leaf(eventHash)
        for step in path {
            hash = step.siblingIsLeft ? node(step.hash, hash) : node(hash, step.hash)
        }
        return hash
    }

    private static func nextLevel(_ level: [[UInt8]]) -> [[UInt8]] {
        var next: [[UInt8]] = []
        next.reserveCapacity((level.count + 1) / 2)
        var i = 0
        while i + 1 < level.count {
            next.append(node(level[i], level[i + 1]))
            i += 2
        }
        if i < level.count { next.append(level[i]) }
        return next
    }
}
