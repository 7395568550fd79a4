import Foundation
import SluiceCore
import Testing

@testable import Kafka

/// The dev broker keeps everything in memory: a restart loses topics, offsets and the
/// idempotent producer's id. The same producer and consumer objects must keep working afterwards.
///
/// A consumer across a restart is tested end to end instead (EndToEndTests.brokerOutage, a real
/// `sluice serve` process): librdkafka 2.14.2 can still crash in its metadata cache when topics
/// come back under new ids (`rd_kafka_metadata_update_op` → `rd_kafka_metadata_cache_find`,
/// seen under gdb here), and in-process that takes the whole test run down with it.
@Suite("Kafka clients across a broker restart", .serialized)
struct KafkaBrokerRestartTests {
    @Test(.timeLimit(.minutes(1)))
    func producerRecoversAfterBrokerRestart() async throws {
        let broker = try TansuBroker()
        try await broker.start()
        defer { broker.kill() }
        let topic = KafkaTestSupport.uniqueName("restart")
        _ = try await KafkaAdmin.createTopics([.init(name: topic, partitions: 2)], bootstrapServers: broker.bootstrapServers)

        var configuration = KafkaProducerConfiguration(bootstrapServers: broker.bootstrapServers)
        configuration.messageTimeoutMs = 2_000
        // The dev broker forgets producer ids across a restart; this is the setting that rebuilds.
        configuration.recoversFromLostBrokerState = true
        configuration.additionalProperties = KafkaTestSupport.debugProperties
        let producer = try KafkaProducer(configuration: configuration, logger: KafkaTestSupport.logger)
        let service = RunningService(producer)
        try await producer.send((0..<5).map { KafkaProducerMessage(topic: topic, key: [UInt8($0)], value: [1]) })

        // Broker down: sends fail, retriably, within the bound.
        await broker.stop()
        let started = ContinuousClock.now
        do {
            _ = try await producer.send(KafkaProducerMessage(topic: topic, key: [1], value: [2]))
            Issue.record("a send with the broker down succeeded")
        } catch let error as KafkaError {
            #expect(error.isRetriable, "\(error)")
        }
        // It fails rather than waiting for the broker (librdkafka's own default would be 300 s);
        // the bound is loose on purpose: how fast it fails is measured, not asserted.
        #expect(ContinuousClock.now - started < .seconds(30))

        // Back on the same address, empty.
        try await broker.start()
        _ = try await KafkaAdmin.createTopics([.init(name: topic, partitions: 2)], bootstrapServers: broker.bootstrapServers)
        try await Self.sendEventually(KafkaProducerMessage(topic: topic, key: [3], value: [3]), with: producer)
        try await producer.send((0..<20).map { KafkaProducerMessage(topic: topic, key: [UInt8($0)], value: [4]) })
        try await service.stop()
    }

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
