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

    @Test("an offset past the expected one is read again until the skip has lasted the confirmation period")
    func skippedOffsetsAreReadAgainThenConfirmed() {
        var tracker = tracker(offsets: 0...4)
        let start = ContinuousClock.now
        let second = Duration.seconds(1)
        let verdict1 = tracker.checkSkip(offset: 5, now: start, confirmAfter: second)
        #expect(verdict1 == .inOrder)
        // 5 and 6 were not readable yet when the broker answered with 7.
        let verdict2 = tracker.checkSkip(offset: 7, now: start, confirmAfter: second)
        #expect(verdict2 == .rereadFrom(5))
        let verdict3 = tracker.checkSkip(offset: 8, now: start + .milliseconds(10), confirmAfter: second)
        #expect(verdict3 == .rereadFrom(5))
        // The re-read found them: the check ends.
        let verdict4 = tracker.checkSkip(offset: 5, now: start + .milliseconds(20), confirmAfter: second)
        #expect(verdict4 == .inOrder)
        #expect(tracker.skip == nil)

        // A real gap (compaction, transaction markers) is taken once it has lasted a second.
        let verdict5 = tracker.checkSkip(offset: 9, now: start, confirmAfter: second)
        #expect(verdict5 == .rereadFrom(5))
        let verdict6 = tracker.checkSkip(offset: 9, now: start + .milliseconds(999), confirmAfter: second)
        #expect(verdict6 == .rereadFrom(5))
        let verdict7 = tracker.checkSkip(offset: 9, now: start + second, confirmAfter: second)
        #expect(verdict7 == .confirmedGap(from: 5))
    }

    @Test("the first offset of an assignment is checked against the committed start")
    func firstOffsetIsCheckedAgainstTheCommittedStart() {
        var tracker = PartitionTracker(generation: 1)
        let now = ContinuousClock.now
        let verdict8 = tracker.checkSkip(offset: 42, now: now, confirmAfter: .seconds(1))
        #expect(verdict8 == .inOrder, "no committed offset: nothing to check")
        tracker.startOffset = 40
        let verdict9 = tracker.checkSkip(offset: 42, now: now, confirmAfter: .seconds(1))
        #expect(verdict9 == .rereadFrom(40))
        let verdict10 = tracker.checkSkip(offset: 40, now: now, confirmAfter: .seconds(1))
        #expect(verdict10 == .inOrder)
        let appended = tracker.append(offset: 40)
        #expect(appended)
        #expect(tracker.expectedNext == 41)
    }
}
