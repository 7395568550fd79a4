import Foundation
import SluiceCore
import Testing

@testable import Kafka

@Suite("KafkaProducer without a broker")
struct KafkaProducerOfflineTests {
    @Test("kafka.properties cannot weaken the delivery guarantees: a reserved key is a start-up error naming it")
    func reservedPropertiesAreRefused() throws {
        for key in ["enable.idempotence", "acks", "message.timeout.ms", "partitioner"] {
            var configuration = KafkaProducerConfiguration(bootstrapServers: "127.0.0.1:1")
            configuration.additionalProperties = ["linger.ms": "1", key: "0"]
            #expect {
                _ = try KafkaProducer(configuration: configuration, logger: KafkaTestSupport.logger)
            } throws: { error in
                (error as? KafkaError)?.code == .invalidArgument && "\(error)".contains("'\(key)'")
            }
        }
        for key in ["enable.auto.commit", "enable.auto.offset.store", "partition.assignment.strategy", "isolation.level", "auto.offset.reset"] {
            var configuration = KafkaConsumerConfiguration(bootstrapServers: "127.0.0.1:1", groupID: "g", topics: ["t"])
            configuration.additionalProperties = [key: "x"]
            #expect {
                _ = try KafkaConsumer(configuration: configuration, logger: KafkaTestSupport.logger)
            } throws: { error in
                (error as? KafkaError)?.code == .invalidArgument && "\(error)".contains("'\(key)'")
            }
        }
        var allowed = KafkaProducerConfiguration(bootstrapServers: "127.0.0.1:1")
        allowed.additionalProperties = ["security.protocol": "plaintext", "linger.ms": "2"]
        _ = try KafkaProducer(configuration: allowed, logger: KafkaTestSupport.logger)
    }

    @Test(.timeLimit(.minutes(1)))
    func unreachableBrokerFailsRetriablyWithinMessageTimeout() async throws {
        var configuration = KafkaProducerConfiguration(bootstrapServers: "127.0.0.1:1")
        configuration.messageTimeoutMs = 2_000
        let producer = try KafkaProducer(configuration: configuration, logger: KafkaTestSupport.logger)
        let started = ContinuousClock.now
        do {
            _ = try await producer.send(KafkaProducerMessage(topic: "nowhere", key: nil, value: Array("x".utf8)))
            Issue.record("a send to an unreachable broker succeeded")
        } catch let error as KafkaError {
            #expect(error.isRetriable, "\(error)")
        }
        let elapsed = ContinuousClock.now - started
        // Fails instead of waiting (librdkafka's default message timeout is 300 s); loose on
        // purpose: a loaded machine once took 4.3 s here.
        #expect(elapsed < .seconds(30), "took \(elapsed)")
    }

    @Test(.timeLimit(.minutes(1)))
    func batchToUnreachableBrokerThrowsAfterAttemptingAll() async throws {
        var configuration = KafkaProducerConfiguration(bootstrapServers: "127.0.0.1:1")
        configuration.messageTimeoutMs = 1_000
        let producer = try KafkaProducer(configuration: configuration, logger: KafkaTestSupport.logger)
        let messages = (0..<50).map { KafkaProducerMessage(topic: "nowhere", key: [UInt8($0)], value: [1]) }
        await #expect(throws: KafkaError.self) {
            try await producer.send(messages)
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func adminAgainstUnreachableBrokerTimesOut() async throws {
        let started = ContinuousClock.now
        await #expect(throws: KafkaError.self) {
            _ = try await KafkaAdmin.createTopics(
                [.init(name: "nowhere", partitions: 1)], bootstrapServers: "127.0.0.1:1", timeoutMs: 1_500
            )
        }
        #expect(ContinuousClock.now - started < .seconds(30))
    }
}

@Suite("KafkaProducer against the dev broker", .serialized)
struct KafkaProducerTests {
    @Test(.timeLimit(.minutes(1)))
    func sendsWithoutRunAndRefusesAfterShutdown() async throws {
        let bootstrap = try KafkaTestSupport.bootstrapServers()
        let topic = KafkaTestSupport.uniqueName("producer")
        _ = try await KafkaAdmin.createTopics([.init(name: topic, partitions: 2)], bootstrapServers: bootstrap)

        let producer = try KafkaProducer(configuration: .init(bootstrapServers: bootstrap), logger: KafkaTestSupport.logger)
        // No run(): the poll thread starts on first use.
        let first = try await producer.send(KafkaProducerMessage(topic: topic, key: Array("a".utf8), value: [1]))
        let second = try await producer.send(KafkaProducerMessage(topic: topic, key: Array("a".utf8), value: [2]))
        #expect(first.partition == second.partition)
        #expect(second.offset == first.offset + 1)

        let service = RunningService(producer)
        try await producer.send((0..<20).map { KafkaProducerMessage(topic: topic, key: nil, value: [UInt8($0)]) })
        try await service.stop()

        await #expect {
            _ = try await producer.send(KafkaProducerMessage(topic: topic, key: nil, value: [3]))
        } throws: { error in
            (error as? KafkaError)?.code == .destroyed
        }
    }
}
