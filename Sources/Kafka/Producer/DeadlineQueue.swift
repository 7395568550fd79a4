import DequeModule

/// Message ids in enqueue order with their delivery deadlines.
///
/// Every send has the same timeout, so deadlines grow with enqueue order and only the front
/// needs checking: O(1) per message instead of scanning every pending delivery. Ids already
/// delivered are dropped from the front as they are met, so the queue holds roughly the
/// messages in flight.
struct DeadlineQueue: Sendable {
    private var entries: Deque<(id: UInt, deadline: ContinuousClock.Instant)> = []

    var first: (id: UInt, deadline: ContinuousClock.Instant)? { entries.first }

    mutating func append(id: UInt, deadline: ContinuousClock.Instant) {
        entries.append((id, deadline))
    }

    mutating func removeFirst() {
        _ = entries.popFirst()
    }
}
