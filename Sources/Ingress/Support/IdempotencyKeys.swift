import DequeModule
import Synchronization

/// The `Idempotency-Key`s of this process: requests still in progress, and the recent answers.
///
/// The ledger's binding (see `IdempotencyBinding`) is what makes a key hold across processes
/// and restarts; this map only has to say what the ledger cannot yet: that a request with the
/// same key is being handled right now here (409), or which job this process just accepted
/// for it while the ledger catches up. Entries live for `ttlMs` or until `capacity` newer ones
/// push them out, and leave in insertion order from a deque, so each claim costs constant
/// (amortised) time however many keys are held.
final class IdempotencyKeys: Sendable {
    enum Claim: Sendable, Equatable {
        /// First use here: go ahead, then `complete` or `abandon`.
        case claimed
        /// Seen before with the same body: answer with this job id.
        case replay(jobID: String)
        case inProgress
        case conflict
    }

    private struct Entry {
        var fingerprint: String
        var jobID: String?
        var atMs: Int64
        /// Tells this entry from an older one of the same key whose place in `order` is stale.
        var serial: UInt64
    }

    private struct Slot {
        var id: String
        var atMs: Int64
        var serial: UInt64
    }

    private struct State {
        var entries: [String: Entry] = [:]
        /// One slot per claim, oldest first; a slot whose serial no longer matches its entry
        /// (abandoned, or claimed again) is dropped when it reaches the front.
        var order: Deque<Slot> = []
        var nextSerial: UInt64 = 0
    }

    private let ttlMs: Int64
    private let capacity: Int
    private let state = Mutex(State())

    init(ttlMs: Int64 = 24 * 3600 * 1000, capacity: Int = 100_000) {
        self.ttlMs = ttlMs
        self.capacity = max(1, capacity)
    }

    /// - Parameter fingerprint: ``IdempotencyBinding/fingerprint(_:)`` of the request body.
    func claim(tenant: String, key: String, fingerprint: String, nowMs: Int64) -> Claim {
        let id = Self.id(tenant: tenant, key: key)
        return state.withLock { state in
            Self.evict(&state, nowMs: nowMs, ttlMs: ttlMs, keeping: Int.max)
            if let entry = state.entries[id], Self.isAlive(entry.atMs, nowMs: nowMs, ttlMs: ttlMs) {
                guard entry.fingerprint == fingerprint else { return .conflict }
                return entry.jobID.map { .replay(jobID: $0) } ?? .inProgress
            }
            Self.evict(&state, nowMs: nowMs, ttlMs: ttlMs, keeping: capacity - 1)
            state.nextSerial &+= 1
            state.entries[id] = Entry(fingerprint: fingerprint, jobID: nil, atMs: nowMs, serial: state.nextSerial)
            state.order.append(Slot(id: id, atMs: nowMs, serial: state.nextSerial))
            return .claimed
        }
    }

    func complete(tenant: String, key: String, jobID: String) {
        state.withLock { $0.entries[Self.id(tenant: tenant, key: key)]?.jobID = jobID }
    }

    /// The request ended without an answer worth replaying: the key may be used again.
    func abandon(tenant: String, key: String) {
        _ = state.withLock { $0.entries.removeValue(forKey: Self.id(tenant: tenant, key: key)) }
    }

    /// How many keys are held (for tests of the bound).
    var count: Int { state.withLock { $0.entries.count } }

    // MARK: - Helpers

    private static func id(tenant: String, key: String) -> String {
        tenant + "\u{0}" + key
    }

    private static func isAlive(_ atMs: Int64, nowMs: Int64, ttlMs: Int64) -> Bool {
        let (age, overflow) = nowMs.subtractingReportingOverflow(atMs)
        return !overflow && age < ttlMs
    }

    /// Drops slots from the front while they are expired or more than `keeping`. Each claim
    /// adds one slot, so over time this pops at most one slot per claim.
    private static func evict(_ state: inout State, nowMs: Int64, ttlMs: Int64, keeping: Int) {
        while let first = state.order.first,
            state.order.count > keeping || !isAlive(first.atMs, nowMs: nowMs, ttlMs: ttlMs)
        {
            state.order.removeFirst()
            if state.entries[first.id]?.serial == first.serial {
                state.entries.removeValue(forKey: first.id)
            }
        }
    }
}
