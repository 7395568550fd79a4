import Testing

@testable import Ledger

@Suite("MessageBatcher", .timeLimit(.minutes(1)))
struct MessageBatcherTests {
    @Test("a full batch is taken at once, the rest after the linger")
    func batchesBySize() async {
        let batcher = MessageBatcher<Int>()
        for i in 0..<25 { batcher.append(i) }
        #expect(await batcher.nextBatch(maxCount: 10, linger: .seconds(30)) == Array(0..<10))
        #expect(await batcher.nextBatch(maxCount: 10, linger: .seconds(30)) == Array(10..<20))
        #expect(await batcher.nextBatch(maxCount: 10, linger: .milliseconds(20)) == Array(20..<25))
    }

    @Test("finish drains what is buffered, then ends")
    func finishDrains() async {
        let batcher = MessageBatcher<Int>()
        batcher.append(1)
        batcher.append(2)
        batcher.finish()
        #expect(await batcher.nextBatch(maxCount: 10, linger: .seconds(30)) == [1, 2])
        #expect(await batcher.nextBatch(maxCount: 10, linger: .seconds(30)) == nil)
    }

    @Test("a waiting taker wakes when enough messages arrive")
    func wakesOnArrival() async {
        let batcher = MessageBatcher<Int>()
        async let batch = batcher.nextBatch(maxCount: 3, linger: .seconds(30))
        for i in 0..<3 { batcher.append(i) }
        #expect(await batch == [0, 1, 2])
    }

    @Test("a waiting taker ends when its task is cancelled")
    func cancellation() async {
        let batcher = MessageBatcher<Int>()
        let task = Task { await batcher.nextBatch(maxCount: 3, linger: .seconds(30)) }
        task.cancel()
        #expect(await task.value == nil)
    }
}
