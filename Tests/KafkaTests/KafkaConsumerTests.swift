import Foundation
import SluiceCore
import Synchronization
import Testing

@testable import Kafka

@Suite("KafkaConsumer against the dev broker", .serialized)
struct KafkaConsumerTests {
    @Test(.timeLimit(.minutes(1)))
    func producesAndConsumesAllWithHeadersIntact() async throws {
        let bootstrap = try KafkaTestSupport.bootstrapServers()
        let topic = KafkaTestSupport.uniqueName("roundtrip")
        _ = try await KafkaAdmin.createTopics([.init(name: topic, partitions: 3)], bootstrapServers: bootstrap)

        let producer = try KafkaProducer(configuration: .init(bootstrapServers: bootstrap), logger: KafkaTestSupport.logger)
        func message(_ index: Int) -> KafkaProducerMessage {
            KafkaProducerMessage(
                topic: topic,
                key: Array("key-\(index % 4)".utf8),
                value: Array("value-\(index)".utf8),
                headers: [
                    KafkaHeader(key: "job-id", value: "\(index)"),
                    KafkaHeader(key: "bin", value: [0, 1, 2, 0xFF]),
                    KafkaHeader(key: "empty", value: []),
                ]
            )
        }
        for index in 0..<10 {
            let position = try await producer.send(message(index))
            #expect((0..<3).contains(position.partition))
            #expect(position.offset >= 0)
        }
        try await producer.send((10..<60).map(message))

        let consumer = try KafkaConsumer(
            configuration: KafkaTestSupport.consumerConfiguration(bootstrap: bootstrap, group: KafkaTestSupport.uniqueName("g"), topics: [topic]),
            logger: KafkaTestSupport.logger
        )
        let service = RunningService(consumer)
        let received = await KafkaTestSupport.collect(from: consumer, count: 60, within: .seconds(40), markDone: true)
        try await service.stop()

        #expect(received.count == 60)
        #expect(Set(received.map { String(decoding: $0.value, as: UTF8.self) }) == Set((0..<60).map { "value-\($0)" }))
        for message in received {
            let index = try #require(message.header("job-id").flatMap(Int.init))
            #expect(message.value == Array("value-\(index)".utf8))
            #expect(message.key == Array("key-\(index % 4)".utf8))
            #expect(message.headers.count == 3)
            #expect(message.headers.first { $0.key == "bin" }?.value == [0, 1, 2, 0xFF])
            #expect(message.headers.first { $0.key == "empty" }?.value == [])
            #expect(message.timestampMs != nil)
            #expect(message.topic == topic)
        }
        // Records of one key keep their order.
        for key in 0..<4 {
            let indices = received.filter { $0.key == Array("key-\(key)".utf8) }.compactMap { $0.header("job-id").flatMap(Int.init) }
            #expect(indices == indices.sorted())
        }
        // Sequence ended at graceful shutdown.
        var iterator = consumer.messages.makeAsyncIterator()
        #expect(await iterator.next() == nil)
    }

    @Test(.timeLimit(.minutes(1)))
    func outOfOrderMarkDoneCommitsLowestUnfinishedOffset() async throws {
        let bootstrap = try KafkaTestSupport.bootstrapServers()
        let topic = KafkaTestSupport.uniqueName("watermark")
        let group = KafkaTestSupport.uniqueName("g")
        _ = try await KafkaAdmin.createTopics([.init(name: topic, partitions: 1)], bootstrapServers: bootstrap)
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: bootstrap), logger: KafkaTestSupport.logger)
        try await producer.send((0..<10).map { KafkaProducerMessage(topic: topic, key: nil, value: Array("m\($0)".utf8)) })

        var configuration = KafkaTestSupport.consumerConfiguration(bootstrap: bootstrap, group: group, topics: [topic])
        configuration.drainTimeoutMs = 500
        let first = try KafkaConsumer(configuration: configuration, logger: KafkaTestSupport.logger)
        let firstService = RunningService(first)
        let all = await KafkaTestSupport.collect(from: first, count: 10, within: .seconds(30), markDone: false)
        try #require(all.map(\.offset) == Array(0..<10))
        // Finished out of order; 3 is the lowest unfinished offset.
        for offset in [2, 0, 5, 1, 7] {
            first.markDone(all[offset])
        }
        #expect(first.core.snapshot.outstanding == 5)
        let drainStarted = ContinuousClock.now
        try await firstService.stop()
        #expect(ContinuousClock.now - drainStarted < .seconds(10))

        let second = try KafkaConsumer(configuration: configuration, logger: KafkaTestSupport.logger)
        let secondService = RunningService(second)
        let again = await KafkaTestSupport.collect(from: second, count: 7, within: .seconds(30), markDone: true)
        try await secondService.stop()
        #expect(again.map(\.offset) == Array(3..<10))
        #expect(again.first.map { String(decoding: $0.value, as: UTF8.self) } == "m3")
    }

    @Test(.timeLimit(.minutes(1)))
    func pausesAtMaxOutstandingAndResumes() async throws {
        let bootstrap = try KafkaTestSupport.bootstrapServers()
        let topic = KafkaTestSupport.uniqueName("pause")
        _ = try await KafkaAdmin.createTopics([.init(name: topic, partitions: 2)], bootstrapServers: bootstrap)
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: bootstrap), logger: KafkaTestSupport.logger)
        try await producer.send((0..<40).map { KafkaProducerMessage(topic: topic, key: Array("\($0)".utf8), value: [UInt8($0)]) })

        var configuration = KafkaTestSupport.consumerConfiguration(bootstrap: bootstrap, group: KafkaTestSupport.uniqueName("g"), topics: [topic])
        configuration.maxOutstanding = 5
        configuration.drainTimeoutMs = 1_000
        let consumer = try KafkaConsumer(configuration: configuration, logger: KafkaTestSupport.logger)
        let service = RunningService(consumer)

        let held = await KafkaTestSupport.collect(from: consumer, count: 5, within: .seconds(30), markDone: false)
        try #require(held.count == 5)
        // Nothing more is handed out while 5 are unfinished.
        let extra = await KafkaTestSupport.collect(from: consumer, count: 1, within: .milliseconds(1_500), markDone: false)
        #expect(extra.isEmpty)
        // The buffer fills up to maxOutstanding and, staying full, pauses every partition.
        #expect(await KafkaTestSupport.eventually(within: .seconds(5)) { consumer.core.snapshot.paused })
        let snapshot = consumer.core.snapshot
        #expect(snapshot.outstanding == 5)
        #expect(snapshot.buffered == 5, "\(snapshot)")

        // Room for two more.
        consumer.markDone(held[0])
        consumer.markDone(held[1])
        let two = await KafkaTestSupport.collect(from: consumer, count: 2, within: .seconds(10), markDone: false)
        #expect(two.count == 2)
        #expect(consumer.core.snapshot.outstanding == 5)
        for message in held.dropFirst(2) + two {
            consumer.markDone(message)
        }

        // The rest flows (resumed), never more than 5 unfinished at a time.
        let maxSeen = Mutex(0)
        let rest = await KafkaTestSupport.collect(from: consumer, count: 33, within: .seconds(30), markDone: true) { _ in
            let outstanding = consumer.core.snapshot.outstanding
            maxSeen.withLock { $0 = max($0, outstanding) }
        }
        try await service.stop()
        #expect(rest.count == 33)
        #expect(maxSeen.withLock { $0 } <= 5)
        let all = held + two + rest
        #expect(Set(all.map { $0.value[0] }) == Set((0..<40).map(UInt8.init)))
    }
}

@Suite("KafkaAdmin against the dev broker", .serialized)
struct KafkaAdminTests {
    @Test(.timeLimit(.minutes(1)))
    func createsTopicsIdempotently() async throws {
        let bootstrap = try KafkaTestSupport.bootstrapServers()
        let a = KafkaTestSupport.uniqueName("admin-a")
        let b = KafkaTestSupport.uniqueName("admin-b")
        let c = KafkaTestSupport.uniqueName("admin-c")
        let created = try await KafkaAdmin.createTopics(
            [.init(name: a, partitions: 2), .init(name: b, partitions: 1, config: ["retention.ms": "3600000", "cleanup.policy": "delete"])],
            bootstrapServers: bootstrap
        )
        #expect(created == [a, b])
        let again = try await KafkaAdmin.createTopics([.init(name: a, partitions: 2), .init(name: b, partitions: 1)], bootstrapServers: bootstrap)
        #expect(again.isEmpty)
        let mixed = try await KafkaAdmin.createTopics([.init(name: b, partitions: 1), .init(name: c, partitions: 3)], bootstrapServers: bootstrap)
        #expect(mixed == [c])

        // The topic is usable.
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: bootstrap), logger: KafkaTestSupport.logger)
        let position = try await producer.send(KafkaProducerMessage(topic: c, key: nil, value: [1]))
        #expect((0..<3).contains(position.partition))
    }
}
