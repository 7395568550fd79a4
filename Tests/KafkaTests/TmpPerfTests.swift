import Foundation
import SluiceCore
import Testing

@testable import Kafka

@Suite("tmp perf", .serialized)
struct TmpPerfTests {
    @Test func producerThroughput() async throws {
        let bootstrap = try KafkaTestSupport.bootstrapServers()
        let topic = KafkaTestSupport.uniqueName("perf")
        _ = try await KafkaAdmin.createTopics([.init(name: topic, partitions: 4)], bootstrapServers: bootstrap)
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: bootstrap), logger: KafkaTestSupport.logger)
        let value = [UInt8](repeating: 7, count: 1024)
        var started = ContinuousClock.now
        for _ in 0..<50 {
            try await producer.send((0..<1000).map { KafkaProducerMessage(topic: topic, key: Array("\($0)".utf8), value: value) })
        }
        print("batched: 50k in \(ContinuousClock.now - started)")
        started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<256 {
                group.addTask {
                    for index in 0..<100 {
                        _ = try await producer.send(KafkaProducerMessage(topic: topic, key: Array("\(worker)-\(index)".utf8), value: value))
                    }
                }
            }
            try await group.waitForAll()
        }
        print("single x256 concurrent: 25.6k in \(ContinuousClock.now - started)")

        var configuration = KafkaTestSupport.consumerConfiguration(bootstrap: bootstrap, group: KafkaTestSupport.uniqueName("g"), topics: [topic])
        configuration.maxOutstanding = 100_000
        let consumer = try KafkaConsumer(configuration: configuration, logger: KafkaTestSupport.logger)
        let service = RunningService(consumer)
        let first = await KafkaTestSupport.collect(from: consumer, count: 1, within: .seconds(30), markDone: true)
        started = ContinuousClock.now
        let rest = await KafkaTestSupport.collect(from: consumer, count: 75_599, within: .seconds(60), markDone: true)
        print("consumed \(first.count + rest.count) in \(ContinuousClock.now - started)")
        try await service.stop()
    }
}
