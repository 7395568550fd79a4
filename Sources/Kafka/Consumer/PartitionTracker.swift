/// At-least-once bookkeeping for one assigned partition: which fetched offsets are not finished
/// yet, so the stored offset never passes an unfinished message.
///
/// Offsets arrive in increasing order, so a queue of (offset, state) that pops finished entries
/// off the front is enough: the front is the lowest unfinished offset, which is exactly the
/// offset to store (the next one to read after a restart).
struct PartitionTracker: Sendable {
    // MARK: - Types

    enum EntryState: Sendable {
        /// Fetched and waiting in the consumer's buffer.
        case buffered
        /// Handed out by `messages`, not yet marked done.
        case handedOut
        /// Handed back unfinished (`KafkaConsumer.release`): it holds the watermark so that
        /// the message is read again by whoever reads the partition next.
        case released
        case done
    }

    struct Entry: Sendable {
        var offset: Int64
        var state: EntryState
    }

    /// What `markDone` did.
    enum MarkResult: Equatable, Sendable {
        /// Unknown offset, already done, or never handed out: nothing changed.
        case ignored
        /// Marked; `watermarkMoved` says whether the offset to store changed.
        case marked(watermarkMoved: Bool)
    }

    // MARK: - Properties

    /// The assignment this tracker belongs to (see `KafkaMessage.assignmentGeneration`).
    let generation: UInt64
    private var entries: [Entry] = []
    /// Index of the first live entry; popped entries before it are dropped in batches.
    private var head = 0
    /// Offset after the last popped (finished) entry.
    private var afterLastDone: Int64?
    private(set) var lastAppended: Int64?
    /// Entries in state `.handedOut`.
    private(set) var handedOutCount = 0
    /// The last offset given to `rd_kafka_offsets_store`, to store only changes.
    var lastStored: Int64?
    /// Where this assignment starts reading, when known (the group's committed offset); nil
    /// leaves the first message of an assignment unchecked. The consumer does not look it up
    /// at present (see README, "Offset skips").
    var startOffset: Int64?
    /// Whether `startOffset` was looked up yet.
    var startOffsetKnown = false
    /// An offset skip being checked (see `checkSkip`).
    private(set) var skip: Skip?

    /// A fetch that went past offsets this partition has not seen.
    struct Skip: Equatable, Sendable {
        /// The offset that should have come next.
        var expected: Int64
        var firstSeen: ContinuousClock.Instant
    }

    /// What to do with a message that is not the one expected next.
    enum SkipVerdict: Equatable, Sendable {
        /// The next expected offset, or no expectation: take it.
        case inOrder
        /// Drop it and read again from `expected`: the records in between may not have been
        /// readable yet when the broker answered the fetch.
        case rereadFrom(Int64)
        /// The same skip has persisted for the whole confirmation period: the broker really
        /// holds nothing in between (compaction, transaction markers). Take it.
        case confirmedGap(from: Int64)
    }

    init(generation: UInt64) {
        self.generation = generation
    }

    // MARK: - Queries

    /// The offset to store: the lowest unfinished offset, or the one after the last finished
    /// offset when nothing is unfinished; nil before the first message.
    var watermark: Int64? {
        head < entries.count ? entries[head].offset : afterLastDone
    }

    var pendingCount: Int { entries.count - head }

    /// The offset that must come next: after the last one taken, or the committed start.
    var expectedNext: Int64? {
        lastAppended.map { $0 + 1 } ?? startOffset
    }

    // MARK: - Updates

    /// Judges `offset` against the one expected next. A skip is re-read until it has been seen
    /// for `confirmAfter`; any in-order offset ends the check.
    ///
    /// Kafka and Redpanda never answer a fetch with an offset above one that is not readable
    /// yet; the dev broker (Tansu 0.6, in memory) does: it raises a partition's high watermark
    /// before the batch is stored, so a fetch racing a produce returns the later batch and
    /// the consumer's position moves past the earlier one for good.
    mutating func checkSkip(offset: Int64, now: ContinuousClock.Instant, confirmAfter: Duration) -> SkipVerdict {
        guard let expected = expectedNext, offset > expected else {
            skip = nil
            return .inOrder
        }
        if let skip, skip.expected == expected {
            if now - skip.firstSeen >= confirmAfter {
                self.skip = nil
                return .confirmedGap(from: expected)
            }
            return .rereadFrom(expected)
        }
        skip = Skip(expected: expected, firstSeen: now)
        return .rereadFrom(expected)
    }

    /// Records a fetched offset. Returns false (and records nothing) for an offset not above the
    /// last one: librdkafka never hands out an offset twice within one assignment, so that means
    /// the partition's log was reset (see `ConsumerCore.accept`).
    mutating func append(offset: Int64) -> Bool {
        if let lastAppended, offset <= lastAppended { return false }
        lastAppended = offset
        entries.append(Entry(offset: offset, state: .buffered))
        return true
    }

    /// Marks a buffered offset as handed out.
    mutating func markHandedOut(offset: Int64) {
        guard let index = index(of: offset), entries[index].state == .buffered else { return }
        entries[index].state = .handedOut
        handedOutCount += 1
    }

    /// Marks a handed-out offset as done and pops finished entries off the front.
    mutating func markDone(offset: Int64) -> MarkResult {
        guard let index = index(of: offset), entries[index].state == .handedOut else { return .ignored }
        entries[index].state = .done
        handedOutCount -= 1
        guard index == head else { return .marked(watermarkMoved: false) }
        while head < entries.count, entries[head].state == .done {
            afterLastDone = entries[head].offset + 1
            head += 1
        }
        compact()
        return .marked(watermarkMoved: true)
    }

    /// Marks a handed-out offset as given up: no longer outstanding, never done.
    mutating func release(offset: Int64) -> Bool {
        guard let index = index(of: offset), entries[index].state == .handedOut else { return false }
        entries[index].state = .released
        handedOutCount -= 1
        return true
    }

    /// The offsets handed out and not yet marked done or released.
    var handedOutOffsets: [Int64] {
        entries[head...].lazy.filter { $0.state == .handedOut }.map(\.offset)
    }

    // MARK: - Internals

    /// Binary search over the live entries (they are sorted by offset).
    private func index(of offset: Int64) -> Int? {
        var low = head
        var high = entries.count - 1
        while low <= high {
            let middle = (low + high) / 2
            let candidate = entries[middle].offset
            if candidate == offset { return middle }
            if candidate < offset { low = middle + 1 } else { high = middle - 1 }
        }
        return nil
    }

    private mutating func compact() {
        if head == entries.count {
            entries.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1024, head * 2 >= entries.count {
            entries.removeFirst(head)
            head = 0
        }
    }
}
