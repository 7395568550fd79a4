import Testing

@testable import Kafka

@Suite("PartitionTracker")
struct PartitionTrackerTests {
    private func tracker(offsets: ClosedRange<Int64>, handedOut: Bool = true) -> PartitionTracker {
        var tracker = PartitionTracker(generation: 1)
        for offset in offsets {
            let appended = tracker.append(offset: offset)
            #expect(appended)
            if handedOut {
                tracker.markHandedOut(offset: offset)
            }
        }
        return tracker
    }

    @Test func watermarkIsLowestUnfinishedOffset() {
        var tracker = tracker(offsets: 10...19)
        #expect(tracker.watermark == 10)
        #expect(tracker.markDone(offset: 12) == .marked(watermarkMoved: false))
        #expect(tracker.markDone(offset: 11) == .marked(watermarkMoved: false))
        #expect(tracker.watermark == 10)
        #expect(tracker.markDone(offset: 10) == .marked(watermarkMoved: true))
        #expect(tracker.watermark == 13)
        for offset: Int64 in 13...19 {
            _ = tracker.markDone(offset: offset)
        }
        #expect(tracker.watermark == 20)
        #expect(tracker.handedOutCount == 0)
        #expect(tracker.pendingCount == 0)
    }

    @Test func bufferedMessagesHoldTheWatermark() {
        var tracker = tracker(offsets: 0...2)
        let appended = tracker.append(offset: 3)  // fetched, never handed out
        #expect(appended)
        for offset: Int64 in 0...2 {
            _ = tracker.markDone(offset: offset)
        }
        #expect(tracker.watermark == 3)
        // A buffered message cannot be marked done: it was never handed out.
        #expect(tracker.markDone(offset: 3) == .ignored)
        #expect(tracker.watermark == 3)
    }

    @Test func duplicateAndUnknownMarksAreIgnored() {
        var tracker = tracker(offsets: 5...6)
        #expect(tracker.markDone(offset: 5) == .marked(watermarkMoved: true))
        #expect(tracker.markDone(offset: 5) == .ignored)
        #expect(tracker.markDone(offset: 99) == .ignored)
        #expect(tracker.handedOutCount == 1)
        let appendedAgain = tracker.append(offset: 6)  // redelivery of a tracked offset
        #expect(!appendedAgain)
    }

    @Test func gapsInOffsetsAreFine() {
        var tracker = PartitionTracker(generation: 1)
        for offset: Int64 in [3, 7, 8, 20] {
            _ = tracker.append(offset: offset)
            tracker.markHandedOut(offset: offset)
        }
        _ = tracker.markDone(offset: 3)
        #expect(tracker.watermark == 7)
        _ = tracker.markDone(offset: 8)
        _ = tracker.markDone(offset: 7)
        #expect(tracker.watermark == 20)
        _ = tracker.markDone(offset: 20)
        #expect(tracker.watermark == 21)
    }

    @Test func manyEntriesCompactWithoutLosingOrder() {
        var tracker = tracker(offsets: 0...4_999)
        for offset: Int64 in 0..<4_000 {
            _ = tracker.markDone(offset: offset)
        }
        #expect(tracker.watermark == 4_000)
        #expect(tracker.markDone(offset: 4_500) == .marked(watermarkMoved: false))
        #expect(tracker.pendingCount == 1_000)
    }

    @Test("a released offset holds the watermark and is no longer handed out")
    func releasedOffsetHoldsTheWatermark() {
        var tracker = tracker(offsets: 0...4)
        #expect(tracker.markDone(offset: 0) == .marked(watermarkMoved: true))
        let released = tracker.release(offset: 1)
        let releasedAgain = tracker.release(offset: 1)
        #expect(released)
        #expect(!releasedAgain, "a second release changes nothing")
        #expect(tracker.handedOutCount == 3)
        for offset: Int64 in 2...4 { _ = tracker.markDone(offset: offset) }
        #expect(tracker.watermark == 1, "the released job is read again after the next assignment")
        let doneAfterRelease = tracker.markDone(offset: 1)
        #expect(doneAfterRelease == .ignored, "released is not done")
        #expect(tracker.handedOutOffsets.isEmpty)
    }
}
