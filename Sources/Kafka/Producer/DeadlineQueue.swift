/// Message ids in enqueue order with their delivery deadlines.
///
/// Every send has the same timeout, so deadlines grow with enqueue order and only the front
/// needs checking: O(1) per message instead of scanning every pending delivery. Ids already
/// delivered are dropped from the front as they are met, so the queue holds roughly the
/// messages in flight.
struct DeadlineQueue: Sendable {
    private var entries: [(id: UInt, deadline: ContinuousClock.Instant)] = []
    private var head = 0

    var first: (id: UInt, deadline: ContinuousClock.Instant)? {
        head < entries.count ? entries[head] : nil
    }

    mutating func append(id: UInt, deadline: ContinuousClock.Instant) {
        entries.append((id, deadline))
    }

    mutating func removeFirst() {
        guard head < entries.count else { return }
        head += 1
        if head == entries.count {
            entries.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 4_096, head * 2 >= entries.count {
            entries.removeFirst(head)
            head = 0
        }
    }
}
