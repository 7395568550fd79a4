import Foundation
import SluiceCore
import Testing

@testable import Kafka

/// The dev broker keeps everything in memory: a restart loses topics, offsets and the
/// idempotent producer's id. The same producer and consumer objects must keep working afterwards.
@Suite("Kafka clients across a broker restart", .serialized)
struct KafkaBrokerRestartTests {
    @Test(.timeLimit(.minutes(1)))
    func producerRecoversAfterBrokerRestart() async throws {
        let broker = try TansuBroker()
        try broker.start()
        defer { broker.kill() }
        let topic = KafkaTestSupport.uniqueName("restart")
        _ = try await KafkaAdmin.createTopics([.init(name: topic, partitions: 2)], bootstrapServers: broker.bootstrapServers)

        var configuration = KafkaProducerConfiguration(bootstrapServers: broker.bootstrapServers)
        configuration.messageTimeoutMs = 2_000
        configuration.additionalProperties = KafkaTestSupport.debugProperties
        let producer = try KafkaProducer(configuration: configuration, logger: KafkaTestSupport.logger)
        let service = RunningService(producer)
        try await producer.send((0..<5).map { KafkaProducerMessage(topic: topic, key: [UInt8($0)], value: [1]) })

        // Broker down: sends fail, retriably, within the bound.
        broker.kill()
        let started = ContinuousClock.now
        do {
            _ = try await producer.send(KafkaProducerMessage(topic: topic, key: [1], value: [2]))
            Issue.record("a send with the broker down succeeded")
        } catch let error as KafkaError {
            #expect(error.isRetriable, "\(error)")
        }
        #expect(ContinuousClock.now - started < .milliseconds(3_500))

        // Back on the same address, empty.
        try broker.start()
        _ = try await KafkaAdmin.createTopics([.init(name: topic, partitions: 2)], bootstrapServers: broker.bootstrapServers)
        try await Self.sendEventually(KafkaProducerMessage(topic: topic, key: [3], value: [3]), with: producer)
        try await producer.send((0..<20).map { KafkaProducerMessage(topic: topic, key: [UInt8($0)], value: [4]) })
        try await service.stop()
    }

    @Test(.timeLimit(.minutes(1)))
    func consumerKeepsConsumingAfterBrokerRestart() async throws {
        let broker = try TansuBroker()
        try broker.start()
        defer { broker.kill() }
        let topic = KafkaTestSupport.uniqueName("restart-consumer")
        _ = try await KafkaAdmin.createTopics([.init(name: topic, partitions: 1)], bootstrapServers: broker.bootstrapServers)
        var producerConfiguration = KafkaProducerConfiguration(bootstrapServers: broker.bootstrapServers)
        producerConfiguration.messageTimeoutMs = 2_000
        let producer = try KafkaProducer(configuration: producerConfiguration, logger: KafkaTestSupport.logger)
        try await producer.send((0..<3).map { KafkaProducerMessage(topic: topic, key: nil, value: Array("before-\($0)".utf8)) })

        var configuration = KafkaTestSupport.consumerConfiguration(
            bootstrap: broker.bootstrapServers, group: KafkaTestSupport.uniqueName("g"), topics: [topic]
        )
        configuration.additionalProperties = KafkaTestSupport.debugProperties
        let consumer = try KafkaConsumer(configuration: configuration, logger: KafkaTestSupport.logger)
        let service = RunningService(consumer)
        let before = await KafkaTestSupport.collect(from: consumer, count: 3, within: .seconds(20), markDone: true)
        #expect(before.count == 3)

        broker.kill()
        try broker.start()
        _ = try await KafkaAdmin.createTopics([.init(name: topic, partitions: 1)], bootstrapServers: broker.bootstrapServers)
        try await Self.sendEventually(KafkaProducerMessage(topic: topic, key: nil, value: Array("after-0".utf8)), with: producer)
        _ = try await producer.send(KafkaProducerMessage(topic: topic, key: nil, value: Array("after-1".utf8)))

        let after = await KafkaTestSupport.collect(from: consumer, count: 2, within: .seconds(30), markDone: true)
        #expect(after.map { String(decoding: $0.value, as: UTF8.self) } == ["after-0", "after-1"])
        try await service.stop()
    }

    /// Retries a send (every error must be retriable) until it succeeds, for up to 30 s.
    static func sendEventually(_ message: KafkaProducerMessage, with producer: KafkaProducer) async throws {
        var errors: [String] = []
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            do {
                _ = try await producer.send(message)
                return
            } catch let error as KafkaError {
                #expect(error.isRetriable, "\(error)")
                errors.append("\(error)")
                try await Task.sleep(for: .milliseconds(250))
            }
        }
        Issue.record("sends kept failing after the restart: \(errors.suffix(3))")
    }
}
