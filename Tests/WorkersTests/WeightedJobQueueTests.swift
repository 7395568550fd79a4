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

@Suite("Tenant turns")
struct TenantFairnessTests {
    @Test("within a priority tenants take turns: 10 jobs behind 1,000 of another tenant start among the first 20")
    func roundRobin() async {
        let queue = WeightedJobQueue<String>(weights: [8, 4, 1])
        for i in 0..<1_000 { queue.push("a\(i)", priority: .p2, tenant: "a") }
        for i in 0..<10 { queue.push("b\(i)", priority: .p2, tenant: "b") }
        var first: [String] = []
        for _ in 0..<20 { if let item = await queue.next() { first.append(item) } }
        #expect(first.filter { $0.hasPrefix("b") } == (0..<10).map { "b\($0)" }, "B's jobs in order, all within 20 starts")
        #expect(first.filter { $0.hasPrefix("a") } == (0..<10).map { "a\($0)" }, "A keeps its own order")
        #expect(queue.count == 990)
    }

    @Test("a job back from a wait goes first in its tenant's line; priorities still win over tenants")
    func front() async {
        let queue = WeightedJobQueue<String>(weights: [8, 4, 1])
        queue.push("a1", priority: .p1, tenant: "a")
        queue.push("a2", priority: .p1, tenant: "a")
        queue.push("a0", priority: .p1, tenant: "a", front: true)
        queue.push("urgent", priority: .p0, tenant: "z")
        var order: [String] = []
        queue.finish()
        while let item = await queue.next() { order.append(item) }
        #expect(order == ["urgent", "a0", "a1", "a2"])
        #expect(queue.close().isEmpty)
    }
}
