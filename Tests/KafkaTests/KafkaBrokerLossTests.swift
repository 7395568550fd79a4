import Foundation
import SluiceCore
import Testing

@testable import Kafka

/// A broker that dies for good: the consumer must still shut down within its bounds
/// (drain, then a bounded commit and a bounded group leave), not hang on librdkafka.
@Suite("KafkaConsumer with the broker gone", .serialized)
struct KafkaBrokerLossTests {
    @Test(.timeLimit(.minutes(1)))
    func consumerShutsDownPromptlyWithTheBrokerGone() async throws {
        let broker = try TansuBroker()
        try await broker.start()
        defer { broker.kill() }
        let topic = KafkaTestSupport.uniqueName("gone")
        _ = try await KafkaAdmin.createTopics([.init(name: topic, partitions: 1)], bootstrapServers: broker.bootstrapServers)
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: broker.bootstrapServers), logger: KafkaTestSupport.logger)
        try await producer.send((0..<3).map { KafkaProducerMessage(topic: topic, key: nil, value: [UInt8($0)]) })

        var configuration = KafkaTestSupport.consumerConfiguration(
            bootstrap: broker.bootstrapServers, group: KafkaTestSupport.uniqueName("g"), topics: [topic]
        )
        configuration.drainTimeoutMs = 1_000
        configuration.additionalProperties = KafkaTestSupport.debugProperties
        let consumer = try KafkaConsumer(configuration: configuration, logger: KafkaTestSupport.logger)
        let service = RunningService(consumer)
        let received = await KafkaTestSupport.collect(from: consumer, count: 3, within: .seconds(20), markDone: false)
        #expect(received.count == 3)
        consumer.markDone(received[0])

        await broker.stop()
        let started = ContinuousClock.now
        try await service.stop()
        let elapsed = ContinuousClock.now - started
        // drainTimeoutMs (1 s) + commit bound (5 s) + group-leave bound (10 s), plus slack.
        #expect(elapsed < .seconds(20), "shutdown took \(elapsed)")
    }
}
