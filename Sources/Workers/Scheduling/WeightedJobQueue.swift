import DequeModule
import Synchronization
import SluiceCore

/// Jobs taken from Kafka that wait for a free provider slot, handed out by priority weight and,
/// within a priority, round robin across tenants.
///
/// Weighted round robin over p0/p1/p2: with all three backlogged, starts follow the weights
/// (default 8:4:1); a lone priority gets every slot, so bulk work never starves and never idles.
/// Within a priority each tenant with work waiting gets one start per turn, so a tenant with
/// 100,000 queued jobs delays a tenant with 10 by one job per turn, not by 100,000.
final class WeightedJobQueue<Item: Sendable>: Sendable {
    /// One priority's waiting jobs: a FIFO per tenant and the turn order of tenants with work.
    private struct Lane {
        var tenants: [String: Deque<Item>] = [:]
        var turns = Deque<String>()
        var count = 0

        mutating func push(_ item: Item, tenant: String, front: Bool) {
            if tenants[tenant] == nil {
                tenants[tenant] = Deque<Item>()
                if front { turns.prepend(tenant) } else { turns.append(tenant) }
            }
            if front { tenants[tenant]?.prepend(item) } else { tenants[tenant]?.append(item) }
            count += 1
        }

        mutating func pop() -> Item? {
            // Popped in place: copying the tenant's queue out of the dictionary and back would
            // copy all of its waiting jobs on every start (the dictionary still holds them).
            guard let tenant = turns.popFirst(), let item = tenants[tenant]?.popFirst() else { return nil }
            count -= 1
            if tenants[tenant]?.isEmpty == true {
                tenants[tenant] = nil
            } else {
                turns.append(tenant)
            }
            return item
        }

        mutating func drain() -> [Item] {
            defer { self = Lane() }
            return tenants.values.flatMap { Array($0) }
        }
    }

    private struct State {
        var lanes: [Lane] = [Lane(), Lane(), Lane()]
        var credits: [Int]
        var waiters: [CheckedContinuation<Item?, Never>] = []
        var finished = false
        /// Closed: nothing more is handed out or taken in.
        var closed = false
        var count = 0

        mutating func pop(weights: [Int]) -> Item? {
            guard count > 0 else { return nil }
            for pass in 0..<2 {
                for p in 0..<3 where lanes[p].count > 0 && credits[p] > 0 {
                    credits[p] -= 1
                    count -= 1
                    return lanes[p].pop()
                }
                if pass == 0 { credits = weights }  // every waiting priority used its share: new round
            }
            return nil
        }
    }

    private let weights: [Int]
    private let state: Mutex<State>

    /// - Parameter weights: starts per round for p0, p1, p2.
    init(weights: [Int]) {
        self.weights = weights
        self.state = Mutex(State(credits: weights))
    }

    var count: Int { state.withLock { $0.count } }

    /// Queues `item`, or hands it straight to a waiting taker.
    ///
    /// - Parameters:
    ///   - tenant: whose job it is; tenants of one priority take turns.
    ///   - front: first in its tenant's line (a job back from a short wait for capacity).
    /// - Returns: false when the queue was closed: the item was not taken.
    @discardableResult
    func push(_ item: Item, priority: Priority, tenant: String = "", front: Bool = false) -> Bool {
        let (waiter, taken): (CheckedContinuation<Item?, Never>?, Bool) = state.withLock { s in
            if s.closed { return (nil, false) }
            if !s.waiters.isEmpty { return (s.waiters.removeFirst(), true) }
            s.lanes[Self.index(priority)].push(item, tenant: tenant, front: front)
            s.count += 1
            return (nil, true)
        }
        waiter?.resume(returning: item)
        return taken
    }

    /// The next item by weight and tenant turn; waits while empty; nil once finished and drained.
    func next() async -> Item? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Item?, Never>) in
            let immediate: Item?? = state.withLock { s in
                if let item = s.pop(weights: weights) { return .some(item) }
                if s.finished { return .some(nil) }
                s.waiters.append(continuation)
                return nil
            }
            if let immediate { continuation.resume(returning: immediate) }
        }
    }

    /// Stops at once: waiters get nil, later pushes are refused, and what was queued is returned
    /// (in no particular order) for the caller to give back. Calling it again returns nothing.
    func close() -> [Item] {
        let (items, waiters) = state.withLock { s -> ([Item], [CheckedContinuation<Item?, Never>]) in
            s.closed = true
            s.finished = true
            var items: [Item] = []
            for p in 0..<3 { items += s.lanes[p].drain() }
            s.count = 0
            defer { s.waiters.removeAll() }
            return (items, s.waiters)
        }
        for waiter in waiters { waiter.resume(returning: nil) }
        return items
    }

    /// No more pushes: waiters get nil once what is queued has been handed out.
    func finish() {
        let waiters = state.withLock { s in
            s.finished = true
            defer { s.waiters.removeAll() }
            return s.waiters
        }
        for waiter in waiters { waiter.resume(returning: nil) }
    }

    private static func index(_ priority: Priority) -> Int {
        switch priority {
        case .p0: 0
        case .p1: 1
        case .p2: 2
        }
    }
}
