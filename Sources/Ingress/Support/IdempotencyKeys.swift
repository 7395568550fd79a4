import Synchronization

/// `Idempotency-Key` bookkeeping: a retried request gets the first answer again; the same key
/// with another body is a 409.
///
/// In memory and per process, kept for `ttlMs`: it absorbs client retries against one ingress.
final class IdempotencyKeys: Sendable {
    enum Claim: Sendable, Equatable {
        /// First use: go ahead, then `complete` or `abandon`.
        case claimed
        /// Seen before with the same body: answer with this job id.
        case replay(jobID: String)
        case inProgress
        case conflict
    }

    private struct Entry {
        var fingerprint: UInt64
        var jobID: String?
        var atMs: Int64
    }

    private let ttlMs: Int64
    private let capacity: Int
    private let entries = Mutex<[String: Entry]>([:])

    init(ttlMs: Int64 = 24 * 3600 * 1000, capacity: Int = 100_000) {
        self.ttlMs = ttlMs
        self.capacity = capacity
    }

    func claim(tenant: String, key: String, body: [UInt8], nowMs: Int64) -> Claim {
        let id = tenant + "\u{0}" + key
        let fingerprint = Self.fingerprint(body)
        return entries.withLock { entries in
            if let entry = entries[id], nowMs - entry.atMs < ttlMs {
                guard entry.fingerprint == fingerprint else { return .conflict }
                return entry.jobID.map { .replay(jobID: $0) } ?? .inProgress
            }
            if entries.count >= capacity {
                entries = entries.filter { nowMs - $0.value.atMs < ttlMs }
                if entries.count >= capacity, let oldest = entries.min(by: { $0.value.atMs < $1.value.atMs }) {
                    entries.removeValue(forKey: oldest.key)
                }
            }
            entries[id] = Entry(fingerprint: fingerprint, jobID: nil, atMs: nowMs)
            return .claimed
        }
    }

    func complete(tenant: String, key: String, jobID: String) {
        entries.withLock { $0[tenant + "\u{0}" + key]?.jobID = jobID }
    }

    /// The enqueue failed: the key may be used again.
    func abandon(tenant: String, key: String) {
        _ = entries.withLock { $0.removeValue(forKey: tenant + "\u{0}" + key) }
    }

    /// FNV-1a over the body: stable, cheap, and plenty to tell two bodies apart.
    static func fingerprint(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            hash ^= UInt64(b)
            hash &*= 0x0000_0100_0000_01b3
        }
        return hash
    }
}
