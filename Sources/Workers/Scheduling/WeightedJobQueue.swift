import Synchronization
import SluiceCore

/// Jobs taken from Kafka that wait for a free provider slot, handed out by priority weight.
///
/// Weighted round robin over p0/p1/p2: with all three backlogged, starts follow the weights
/// (default 8:4:1); a lone priority gets every slot, so bulk work never starves and never idles.
final class WeightedJobQueue<Item: Sendable>: Sendable {
    private struct State {
        var queues: [[Item]] = [[], [], []]
        var heads: [Int] = [0, 0, 0]
        var credits: [Int]
        var waiters: [CheckedContinuation<Item?, Never>] = []
        var finished = false
        /// Closed: nothing more is handed out or taken in.
        var closed = false
        var count = 0

        mutating func pop(weights: [Int]) -> Item? {
            guard count > 0 else { return nil }
            for pass in 0..<2 {
                for p in 0..<3 where heads[p] < queues[p].count && credits[p] > 0 {
                    credits[p] -= 1
                    return take(p)
                }
                if pass == 0 { credits = weights }  // every waiting priority used its share: new round
            }
            return nil
        }

        private mutating func take(_ p: Int) -> Item {
            let item = queues[p][heads[p]]
            heads[p] += 1
            count -= 1
            if heads[p] == queues[p].count {
                queues[p].removeAll(keepingCapacity: true)
                heads[p] = 0
            } else if heads[p] >= 1024 {
                queues[p].removeFirst(heads[p])
                heads[p] = 0
            }
            return item
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
    /// - Returns: false when the queue was closed: the item was not taken.
    @discardableResult
    func push(_ item: Item, priority: Priority) -> Bool {
        let (waiter, taken): (CheckedContinuation<Item?, Never>?, Bool) = state.withLock { s in
            if s.closed { return (nil, false) }
            if !s.waiters.isEmpty { return (s.waiters.removeFirst(), true) }
            s.queues[Self.index(priority)].append(item)
            s.count += 1
            return (nil, true)
        }
        waiter?.resume(returning: item)
        return taken
    }

    /// The next item by weight; waits while empty; nil once finished and drained.
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
            for p in 0..<3 {
                items += s.queues[p][s.heads[p]...]
                s.queues[p] = []
                s.heads[p] = 0
            }
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
