import SluiceCore
import Testing

@testable import Workers

@Suite("Weighted start order")
struct WeightedJobQueueTests {
    @Test("with every priority backlogged, starts follow the weights 8:4:1")
    func weights() async {
        let queue = WeightedJobQueue<Priority>(weights: [8, 4, 1])
        for _ in 0..<130 {
            for p in Priority.allCases { queue.push(p, priority: p) }
        }
        var started: [Priority: Int] = [:]
        for _ in 0..<130 {
            if let p = await queue.next() { started[p, default: 0] += 1 }
        }
        #expect(started[.p0] == 80)
        #expect(started[.p1] == 40)
        #expect(started[.p2] == 10)
    }

    @Test("a lone priority gets every slot and nothing starves")
    func loneAndDrain() async {
        let queue = WeightedJobQueue<Int>(weights: [8, 4, 1])
        for i in 0..<50 { queue.push(i, priority: .p2) }
        queue.push(1_000, priority: .p0)
        var seen: [Int] = []
        queue.finish()
        while let i = await queue.next() { seen.append(i) }
        #expect(seen.first == 1_000)
        #expect(seen.count == 51)
        #expect(Array(seen.dropFirst()) == Array(0..<50), "FIFO within a priority")
    }

    @Test("a waiting taker gets the next push; finish releases takers")
    func waiting() async {
        let queue = WeightedJobQueue<Int>(weights: [1, 1, 1])
        async let taken = queue.next()
        try? await Task.sleep(for: .milliseconds(50))
        queue.push(7, priority: .p1)
        #expect(await taken == 7)
        async let none = queue.next()
        try? await Task.sleep(for: .milliseconds(50))
        queue.finish()
        #expect(await none == nil)
    }

    @Test("close hands back everything queued, wakes takers, and refuses later pushes")
    func closeReturnsQueuedItems() async {
        let queue = WeightedJobQueue<Int>(weights: [8, 4, 1])
        for i in 0..<10 { queue.push(i, priority: i % 2 == 0 ? .p0 : .p2) }
        #expect(await queue.next() != nil)
        let returned = queue.close()
        #expect(returned.count == 9)
        #expect(await queue.next() == nil)
        #expect(!queue.push(99, priority: .p1))
        #expect(queue.close().isEmpty)
    }
}
